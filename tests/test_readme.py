"""The README's first commands are a complete setup, CPU-only torch first (a plain
`pip install -r requirements.txt` pulls 6.5 GB of CUDA wheels onto a laptop)."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU_TORCH = ("pip install --index-url https://download.pytorch.org/whl/cpu "
             "torch==2.14.1 torchvision==0.29.1")


def _first_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S).group(1)
    return [line.split("  #")[0].strip() for line in block.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_the_first_commands_install_cpu_torch_then_the_rest_then_run_and_test():
    commands = _first_commands()
    assert commands[0] == CPU_TORCH
    assert commands[1:] == ["pip install -r requirements.txt",
                            "streamlit run dashboard/app.py", "pytest"]


def test_the_cpu_line_pins_what_requirements_pin():
    pins = dict(re.findall(r"^(torch|torchvision)==(\S+)",
                           (ROOT / "requirements.txt").read_text(), re.M))
    assert f"torch=={pins['torch']}" in CPU_TORCH
    assert f"torchvision=={pins['torchvision']}" in CPU_TORCH
