"""The official Python SDK (`daytona` from PyPI) against a Daytona-compatible server.

Configured as a user configures it, from the environment (DAYTONA_API_URL, DAYTONA_API_KEY,
DAYTONA_TARGET). A declarative build (Image.debian_slim().pip_install(...)) with its build logs,
process.exec in the built sandbox, fs.upload_file / fs.download_file both from memory and from a
local path, and delete. Prints one line `RESULT <json>` with what it observed, for
__test__/serve-python-sdk.test.js to check; exits non-zero on any error (after deleting the
sandbox it made).

No local files in the image: the 0.218 SDK uploads a build context with obstore's S3Store, which
refuses an http:// storage URL ("builder error", reqwest BadScheme), and it makes that store inside
an emptied os.environ (daytona._utils.environment.isolated_env), so no environment variable can
allow HTTP: a context cannot reach object storage on a loopback HTTP endpoint. An image without
context files needs no push-access at all.
"""

import json
import os
import sys
import tempfile

from daytona import CreateSandboxFromImageParams, Daytona, Image

PIP_PACKAGE = os.environ.get("SERVE_TEST_PIP_PACKAGE", "six")


def main() -> int:
    daytona = Daytona()
    logs: list[str] = []
    image = (
        Image.debian_slim("3.12")
        .pip_install([PIP_PACKAGE])
        .env({"SERVE_TEST_ENV": "from the image"})
    )
    sandbox = daytona.create(
        CreateSandboxFromImageParams(image=image, labels={"serve-test": "python"}),
        timeout=600,
        on_snapshot_create_logs=logs.append,
    )
    observed: dict = {"id": sandbox.id, "state": str(sandbox.state), "build_log_lines": len(logs)}
    try:
        r = sandbox.process.exec(f'python -c "import {PIP_PACKAGE}; print({PIP_PACKAGE}.__name__)"')
        observed["import"] = {"exit_code": r.exit_code, "result": r.result.strip()}
        r = sandbox.process.exec("echo $SERVE_TEST_ENV; echo err >&2; exit 3")
        observed["exit"] = {"exit_code": r.exit_code, "result": r.result}

        payload = "héllo from python\n".encode("utf-8") * 1000
        sandbox.fs.upload_file(payload, "/tmp/serve-python/in-memory.txt")
        back = sandbox.fs.download_file("/tmp/serve-python/in-memory.txt")
        observed["memory_round_trip"] = back == payload

        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, "local.bin")
            data = bytes(range(256)) * 4096  # 1 MiB, every byte value
            with open(local, "wb") as f:
                f.write(data)
            sandbox.fs.upload_file(local, "/tmp/serve-python/local.bin")
            out = os.path.join(tmp, "out.bin")
            sandbox.fs.download_file("/tmp/serve-python/local.bin", out)
            with open(out, "rb") as f:
                observed["file_round_trip"] = f.read() == data

        r = sandbox.process.exec("wc -c < /tmp/serve-python/local.bin")
        observed["remote_size"] = r.result.strip()
    finally:
        daytona.delete(sandbox)
    try:
        daytona.get(sandbox.id)
        observed["after_delete"] = "still there"
    except Exception as e:  # the SDK's not-found error
        observed["after_delete"] = type(e).__name__
    observed["build_log_sample"] = logs[:3]
    print("RESULT " + json.dumps(observed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
