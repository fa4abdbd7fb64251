"""hardtech: find, classify, score, rank and map hard & core technology (硬科技)."""

__version__ = "0.1.0"
