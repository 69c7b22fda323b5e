"""Budget-allocation optimiser for integrated health and care systems."""

__version__ = "0.1.0"
