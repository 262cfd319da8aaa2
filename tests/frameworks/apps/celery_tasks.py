"""A Celery app whose task makes one real openai call to dev-llm (tests/frameworks/test_celery.py).

Broker: kombu's ``filesystem://`` transport (no server; prefork children and the test share it
through CELERY_DIR), results in ``file://`` under the same folder. ``ask(model)`` returns the pid
of the worker process that ran it and whether Arc listens to ``worker_process_shutdown`` there."""

import os

import openai
from celery import Celery, signals

FOLDER = os.environ["CELERY_DIR"]
for sub in ("queue", "results"):
    os.makedirs(os.path.join(FOLDER, sub), exist_ok=True)

app = Celery("celery_tasks", broker="filesystem://", backend="file://" + os.path.join(FOLDER, "results"))
app.conf.broker_transport_options = {"data_folder_in": os.path.join(FOLDER, "queue"),
                                     "data_folder_out": os.path.join(FOLDER, "queue"),
                                     "control_folder": os.path.join(FOLDER, "control")}  # default: ./control
app.conf.broker_connection_retry_on_startup = True


@app.task(name="ask")
def ask(model: str) -> list:
    client = openai.OpenAI(base_url=os.environ["DEVLLM_URL"] + "/v1", api_key="sk-celery", max_retries=0)
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    hooked = any("_celery_child_exit" in repr(receiver) for receiver in signals.worker_process_shutdown.receivers)
    return [os.getpid(), hooked]
