"""Readings: the numbers of a measurement in words, Gradio-free.

Each reading is a small frozen dataclass holding the numbers and the branch they chose (its
``kind``); its sentences are whole-sentence templates with named placeholders, keyed by that kind
(:mod:`.sentences`), and each threshold that chooses a branch is named once, with why it has its
value. One module per subject: knockouts, trust in an explanation (faithfulness and the sanity
check), the lab (its arms compared seed by seed, the norm control) and the lesson's answers.
"""
