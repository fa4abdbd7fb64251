"""Classification of organisations, technologies and patents into the eight fields and the typology."""

from hardtech.analytics.classify.fields import FieldClassifier
from hardtech.analytics.classify.pipeline import HardTechClassifier, load_classifier
from hardtech.analytics.classify.typology import TypologyClassifier

__all__ = ["FieldClassifier", "TypologyClassifier", "HardTechClassifier", "load_classifier"]
