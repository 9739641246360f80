"""The extractive reader, one stage per module, in the order they run:

1. `question`      question text → terms, names, the entity labels an answer should hold
2. `candidates`    retrieved chunks → sentences and adjacent pairs, with offsets and entities
3. `features`      question + candidates → generic feature rows
4. `model`         the trained ranker and answerability model (qa/data/reader_model.json)
5. `pipeline`      chains them: rank, decide answerability, compose
6. `answer`        the chosen candidate → an Answer with one verbatim citation and its spans
"""

from qa.reader.pipeline import MODES, Reader, Reading

__all__ = ["MODES", "Reader", "Reading"]
