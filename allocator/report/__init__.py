"""Board-ready reports of a result (the PDF board report)."""
