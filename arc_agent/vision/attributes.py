"""Span attribute names for UI actions (``arc.vision.*``), kept apart from the LLM names."""

FRAMEWORK = "arc.vision.framework"
ACTION = "arc.vision.action"
SELECTOR = "arc.vision.selector"
URL = "arc.vision.url"
BBOX = "arc.vision.bbox"
VIEWPORT = "arc.vision.viewport"
ELEMENT_VISIBLE = "arc.vision.element_visible"
SUCCESS = "arc.vision.success"
ERROR_TYPE = "error.type"
HEALED = "arc.vision.healed"
HEALED_SELECTOR = "arc.vision.healed_selector"
HEAL_SCORE = "arc.vision.heal_score"
HEAL_STRATEGY = "arc.vision.heal_strategy"
PRIVACY_TIER = "arc.vision.privacy_tier"
# what a replay must inject (features.mechanics of the first look, plus "detached"/"relocated" from
# healing) and when the target was first seen ready (ms since the action started; training_ray/states.py)
MECHANICS = "arc.vision.mechanics"
READY_MS = "arc.vision.ready_ms"
FEATURES = "arc.vision.features"  # the model features of the first look, in features.FEATURES order

PAGE_PHASH = "arc.vision.page_phash"
ELEMENT_PHASH = "arc.vision.element_phash"

CONFIDENCE_BEFORE = "arc.vision.confidence_before"
CONFIDENCE_AFTER = "arc.vision.confidence_after"
TOOLS = "arc.vision.tools"
TOOL_MS = "arc.vision.tool_ms"
INFERENCE_MS = "arc.vision.inference_ms"
PRE_ACTION_MS = "arc.vision.pre_action_ms"
MODEL_VERSION = "arc.vision.model_version"
POLICY_VERSION = "arc.vision.policy_version"
CROP_SOURCE = "arc.vision.crop_source"  # capture | reused (same document) | recalled (recall.py)
# pixel tiers: when the page pixels behind the hashes/blobs were taken: before_action | with_action
# (requested before, proven copied before any event of the action; actions.py) | skipped (not proven)
PAGE_CAPTURE = "arc.vision.page_capture"

BLOB_KEY = "arc.vision.blob_key"
PAGE_BLOB_KEY = "arc.vision.page_blob_key"
SNAPSHOT_KEY = "arc.vision.snapshot_key"  # serialized DOM of a low-confidence/failed action (blob store)
