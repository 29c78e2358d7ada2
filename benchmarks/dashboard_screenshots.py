"""Check what a user sees in TensorBoard: run a short CLS on the embedded Split Digits, serve its
event files, and screenshot the Custom Scalars and Images tabs in a headless Chromium.

    python benchmarks/dashboard_screenshots.py --out docs/

Needs a Chromium binary (Debian: ``apt-get install chromium``; or pass ``--browser``). The
screenshots in ``docs/`` were made with this script.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TABS = {  # tab: (file, window height in pixels)
    "custom_scalars": ("tensorboard_custom_scalars.png", 800),
    "images": ("tensorboard_images.png", 1700),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--browser", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--port", type=int, default=6123)
    args = parser.parse_args()
    if shutil.which(args.browser) is None:
        sys.exit(f"No browser at {args.browser!r}: install Chromium (Debian: apt-get install "
                 "chromium) or pass --browser PATH.")
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        run_dir = Path(scratch) / "run"
        subprocess.run([sys.executable, str(REPO / "train.py"), "strategy=cls",
                        "logger.eval_every=10", "logger.progress=false",
                        f"hydra.run.dir={run_dir}"], check=True, cwd=scratch)
        server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir",
                                   str(run_dir / "tensorboard"), "--port", str(args.port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://localhost:{args.port}/"
            _wait_for(url)
            for tab, (name, height) in TABS.items():
                subprocess.run([args.browser, "--headless", "--no-sandbox", "--disable-gpu",
                                "--hide-scrollbars", f"--window-size=1400,{height}",
                                "--virtual-time-budget=15000",
                                f"--screenshot={args.out / name}", f"{url}#{tab}"],
                               check=True, capture_output=True)
                print(args.out / name)
        finally:
            server.terminate()


def _wait_for(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


if __name__ == "__main__":
    main()
