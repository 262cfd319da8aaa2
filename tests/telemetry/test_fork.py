"""Fork safety: forked children (os.fork, multiprocessing 'fork') export their own spans, once."""

from collections import Counter

from tests.helpers.otlp import OTLPReceiver

from .conftest import free_port


def names(spans) -> Counter:
    return Counter(s.name for s in spans)


def test_os_fork_child_exports_its_own_spans(run_app, receiver):
    result = run_app("fork_os", 5, receiver.endpoint)
    assert result["child_exit"] == 0
    spans = receiver.wait_for(15)
    assert names(spans) == {"chat parent-before": 5, "chat child-os": 5, "chat parent-after": 5}
    assert len({s.span_id for s in spans}) == 15


def test_multiprocessing_fork_children_export_every_span(run_app, receiver):
    result = run_app("fork_mp", 4, receiver.endpoint)
    assert result["exit_codes"] == [0, 0]
    spans = receiver.wait_for(9)
    # these children end in os._exit: without Arc's exit hook their last batch would be lost
    assert names(spans) == {"chat parent-before": 1, "chat child-mp-0": 4, "chat child-mp-1": 4}


def test_child_forked_during_an_outage_does_not_resend_the_parents_backlog(interactive):
    port = free_port()
    n = 6
    app = interactive("fork_outage", n, f"grpc://127.0.0.1:{port}")
    app.read_until("WAITING")
    app.read_until("WAITING")  # parent (holding a backlog of n spans) and child both reached the pause
    with OTLPReceiver(port=port) as rec:
        app.proceed()
        app.proceed()
        result, _ = app.finish()
        spans = rec.wait_for(2 * n + 1)
        assert result["child_exit"] == 0
        assert names(spans) == {"chat parent-before": n, "chat child": n, "chat parent-after": 1}
        assert len(spans) == len({s.span_id for s in spans}) == 2 * n + 1  # none twice


def test_forks_while_another_thread_exports_lose_nothing(run_app, receiver):
    n = 6
    result = run_app("fork_busy", n, receiver.endpoint)
    assert result["child_exits"] == [0] * n
    # every process has exited, and each flushed before exiting: what arrived is final
    children = sorted(s.name for s in receiver.spans if s.name.startswith("chat busy-child-"))
    assert children == [f"chat busy-child-{i}" for i in range(n)]



def test_a_fork_ends_a_hanging_send_instead_of_waiting_for_it_and_loses_nothing(run_app):
    """The first export call hangs (the collector never answers it; ARC_EXPORT_TIMEOUT is 600 s, far past
    run_app's 90 s limit): the fork does not wait for it but ends it, and its batch is sent again."""
    n = 3
    with OTLPReceiver(hold_first=True) as rec:
        result = run_app("fork_mid_send", n, rec.endpoint, ARC_EXPORT_TIMEOUT="600", ARC_SHUTDOWN_FLUSH_MS="20000")
        assert result["child_exit"] == 0
        assert rec.held.is_set()
        assert names(rec.wait_for(n)) == {"chat parent-before": n}  # the batch the fork ended, sent again
