"""Types a new password at `junction user set-password` on a real terminal (a pseudo-terminal),
the way a person does: waits for each prompt, then types. Prints everything the terminal
showed, so the caller can check the password was never echoed.

usage: tty_password.py JUNCTION_BINARY USERNAME PASSWORD   (the database comes from the env)
"""
import os
import pty
import sys
import time

binary, user, password = sys.argv[1:4]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "user", "set-password", "--username", user, "--password-stdin"])

shown = b""


def read_until(marker: bytes, timeout: float = 20.0) -> None:
    global shown
    deadline = time.monotonic() + timeout
    while marker not in shown:
        if time.monotonic() > deadline:
            sys.stdout.write(shown.decode(errors="replace"))
            sys.exit(f"timed out waiting for {marker!r}")
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk


read_until(b"New password for")
os.write(fd, password.encode() + b"\n")
read_until(b"Again:")
os.write(fd, password.encode() + b"\n")
read_until(b"sessions have ended")
_, status = os.waitpid(pid, 0)
sys.stdout.write(shown.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
