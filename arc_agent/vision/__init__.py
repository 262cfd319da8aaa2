"""Vision: confidence-gated UI actions for Playwright and Selenium.

Before an action the target is probed in the page, a crop around it is scored by a small ONNX
model, risky targets get a tool (wait / zoom / inspect), failed actions are healed within a time
budget, and every action becomes one ``ui.<action>`` span filtered by the privacy tier. Nothing
heavy (onnxruntime, numpy, PIL, imagehash) is imported until the first UI action runs.
"""
