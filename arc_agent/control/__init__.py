"""The control plane: ``arc serve`` serves the registry to a fleet of agents over gRPC
(``proto/arc/v1/control.proto``, generated code in ``gen/``), and an agent with
``ARC_CONTROL_ENDPOINT`` follows it from a background thread (``agent.start_from_env``).

Nothing here is imported unless a control endpoint is set or a control command runs.
"""
