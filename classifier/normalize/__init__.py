"""Vietnamese text normalisation: the same view of a message however it was typed.

``normalize`` is the fast path used by features (NFC, case folding, tone-mark placement,
de-obfuscation, squeezing, teencode expansion, placeholders for URLs, e-mails, phone numbers and
@mentions); ``analyze`` returns the same tokens with their offsets in the original string;
``fold_accents`` gives the accent-free view; ``extract_entities`` keeps the originals behind the
placeholders for the personal-information detector.
"""

from classifier.normalize.core import (
    PLACEHOLDERS,
    Entity,
    NormalizedText,
    Token,
    analyze,
    clear_caches,
    extract_entities,
    fold_accents,
    normalize,
    normalize_many,
)
from classifier.normalize.lexicon import sensitive_words, teencode

__all__ = [
    "PLACEHOLDERS",
    "Entity",
    "NormalizedText",
    "Token",
    "analyze",
    "clear_caches",
    "extract_entities",
    "fold_accents",
    "normalize",
    "normalize_many",
    "sensitive_words",
    "teencode",
]
