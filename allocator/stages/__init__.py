"""The objective stages (lexicographic or weighted) solved one after another on one program."""
