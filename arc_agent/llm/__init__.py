"""The one LLM call path, shared by every integration and the side-car: the request view the fixer
reads (``request.py``), the fixer seam (``fixer.py``), a call from start to its one span
(``call.py``; streams finish through ``streams.py``), outcomes and request features for learning,
and opt-in capture to a cassette (``capture.py``, ``cassette.py``). An integration supplies only a
``CallSpec``."""
