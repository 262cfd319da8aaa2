"""Bulk word coding (``similarity.code_texts``: whole-array splitting of ASCII texts, dict path
otherwise) gives every text exactly the word set ``similarity.words`` gives it."""

import random

from arc_agent.patterns import similarity


def word_sets(vocab, codes, rows, n_rows):
    out = [set() for _ in range(n_rows)]
    for c, r in zip(codes.tolist(), rows.tolist()):
        out[r].add(vocab[c])
    return out


def check(texts):
    expected = [set(similarity.words(t)) for t in texts]
    assert word_sets(*similarity.code_texts(texts)) == expected
    assert word_sets(*similarity.code_rows(similarity.word_rows(texts))) == expected


def test_edge_cases():
    check(["Hello, World! hello", "", "x_y z9 ??", "?!", "a",
           "averyveryverylongwordindeed and anotherveryverylongword averyveryverylongwordindeed",
           "exactly16bytesab exactly16bytesab exactly8 exactly9x exactly16bytesac", "TAB\tnew\nline"])
    check(["Réponds en JSON s'il te plaît", "plain ascii"])  # non-ASCII: the dict path
    check(["only one text with Words and WORDS"])
    check([])


def test_random_texts():
    rng = random.Random(5)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789_ .,;!?-\t"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120))) for _ in range(3000)]
    check(texts)
