"""Tools that make data rather than read it: the synthetic universe generator (`hardtech synth`).

Kept out of `sources/` (which reads and validates what others publish) so that a generator is never
mistaken for a source; it reads the schema at the bottom and writes files the importer loads.
"""
