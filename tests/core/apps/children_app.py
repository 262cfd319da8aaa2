"""Parent that starts a subprocess and a multiprocessing 'spawn' child; each makes one call."""

import json
import multiprocessing
import os
import subprocess
import sys


def call(tag: str) -> None:
    import openai

    c = openai.OpenAI(api_key="sk-x", base_url=os.environ["DEVLLM_URL"] + "/v1", max_retries=0)
    c.chat.completions.create(model=f"child-{tag}", messages=[{"role": "user", "content": "hi"}])


if __name__ == "__main__":
    if len(sys.argv) > 1:
        call(sys.argv[1])
        sys.exit(0)
    call("parent")
    subprocess.run([sys.executable, __file__, "subprocess"], check=True)
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(target=call, args=("spawn",))
    p.start()
    p.join()
    print(json.dumps({"result": p.exitcode, "patched": True}))
