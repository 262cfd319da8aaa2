"""POST /v1/embeddings through the real openai SDK (its default base64 path and explicit floats)."""

from __future__ import annotations

import math

import openai
import pytest


def _cos(a, b):
    return sum(x * y for x, y in zip(a, b))


def test_vectors_are_deterministic_unit_and_word_similar(oai):
    out = oai.embeddings.create(model="text-embedding-3-small",
                                input=["the red cat sat", "the red cat ran", "quantum tax law"])
    again = oai.embeddings.create(model="text-embedding-3-small", input=["the red cat sat"])
    assert out.object == "list" and out.model == "text-embedding-3-small"
    assert [d.index for d in out.data] == [0, 1, 2]
    vecs = [d.embedding for d in out.data]
    assert all(len(v) == 64 and math.isclose(_cos(v, v), 1.0, rel_tol=1e-5) for v in vecs)
    assert again.data[0].embedding == vecs[0]
    assert _cos(vecs[0], vecs[1]) > _cos(vecs[0], vecs[2])
    assert out.usage.prompt_tokens == out.usage.total_tokens == 11


def test_float_encoding_and_dimensions(oai):
    out = oai.embeddings.create(model="m", input="hello", dimensions=16, encoding_format="float")
    b64 = oai.embeddings.create(model="m", input="hello", dimensions=16)
    assert len(out.data[0].embedding) == 16
    assert b64.data[0].embedding == pytest.approx(out.data[0].embedding, abs=1e-6)


def test_token_array_input(oai):
    out = oai.embeddings.create(model="m", input=[[1, 2, 3], [4, 5]])
    assert len(out.data) == 2 and out.usage.prompt_tokens == 5


async def test_async(aoai):
    out = await aoai.embeddings.create(model="m", input="hello")
    assert len(out.data[0].embedding) == 64


def test_empty_input_is_a_400(oai):
    with pytest.raises(openai.BadRequestError, match="input"):
        oai.embeddings.create(model="m", input="")
