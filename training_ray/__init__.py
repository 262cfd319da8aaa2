"""Learning jobs, run on Ray outside the agent (``arc learn patterns`` and ``arc train ui-policy`` start
them as subprocesses; ``arc_agent`` never imports this package). They read spans through
``span_source.py`` and publish what they learn to the registry: ``learn_patterns.py`` (mining,
``fix_catalogue.py``, replay verification), ``ui_policy.py`` (states, Ray actors in ``ui_env.py``,
GRPO), ``vision_confidence.py`` (the default element-confidence model)."""
