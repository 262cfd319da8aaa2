"""Record and replay: re-send captured LLM requests (a cassette, ``ARC_CAPTURE``) through the real
SDKs with Arc's fixer, to compare outcomes before and after a pattern set (``arc replay``, the pytest
plugin, and the verification step of ``arc learn patterns``)."""

from .records import Record, read_records
from .runner import Replayer, ReplayResult, summarize

__all__ = ["Record", "ReplayResult", "Replayer", "read_records", "summarize"]
