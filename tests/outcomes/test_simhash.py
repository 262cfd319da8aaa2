"""The system-prompt fingerprint: deterministic across processes, near for small edits, far otherwise."""

import os
import subprocess
import sys

from arc_agent.llm.simhash import MAX_WORDS, distance, fingerprint, simhash64

BASE = ("You are a support agent for a travel company. Help customers change flights, request refunds and "
        "understand baggage rules. Be concise, cite the booking reference when you have it, and escalate "
        "anything about medical emergencies to a human colleague immediately.")
OTHERS = [
    "Summarise the attached quarterly earnings report in five bullet points for an investor newsletter.",
    "You write Python unit tests with pytest for the function the user pastes, covering edge cases first.",
    "Act as a Socratic tutor for high school chemistry; never give the final answer, ask guiding questions.",
]


def test_same_text_same_fingerprint_in_another_process_with_another_hash_seed():
    code = "import sys; from arc_agent.llm.simhash import fingerprint; print(fingerprint(sys.argv[1]))"
    env = dict(os.environ, PYTHONHASHSEED="12345")
    other = subprocess.run([sys.executable, "-c", code, BASE], capture_output=True, text=True, env=env, check=True)
    assert other.stdout.strip() == fingerprint(BASE)
    assert len(fingerprint(BASE)) == 16 and int(fingerprint(BASE), 16) == simhash64(BASE)


def test_case_and_punctuation_do_not_matter_one_word_is_near_unrelated_is_far():
    assert fingerprint(BASE.upper().replace(",", " ;")) == fingerprint(BASE)
    near = fingerprint(BASE.replace("concise", "brief"))
    assert 0 < distance(fingerprint(BASE), near) <= 12
    for other in OTHERS:
        assert distance(fingerprint(BASE), fingerprint(other)) >= 18, other


def test_no_words_no_fingerprint_and_long_texts_are_bounded():
    assert fingerprint("") == "" and fingerprint("  ...  ") == ""
    assert len(fingerprint("hi")) == 16  # fewer words than a shingle still fingerprint
    long = " ".join(f"w{i}" for i in range(MAX_WORDS + 5000))
    assert fingerprint(long) == fingerprint(" ".join(f"w{i}" for i in range(MAX_WORDS)))
