"""The README's prompt-style examples outside the walk-through print exactly the lines they show.

A fenced block with no language whose first line is `$ command` is such an example: the command runs
from the project root, with `.env` skipped and nothing from this process's environment but PATH, and
what it prints (standard output and error) must be the lines under it, in order.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import unittest
from pathlib import Path

from tests.base import uses_subprocesses

ROOT = Path(__file__).resolve().parents[1]
_PROMPT_BLOCK = re.compile(r"^```\n\$ (.*?)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def prompt_examples(text: str) -> list[tuple[int, str, list[str]]]:
    """Return each example's README line, command and shown output lines."""
    return [
        (text[: match.start()].count("\n") + 1, match.group(1), match.group(2).splitlines())
        for match in _PROMPT_BLOCK.finditer(text)
    ]


@uses_subprocesses
class ReadmePromptExampleTest(unittest.TestCase):
    def test_each_example_prints_what_it_shows(self) -> None:
        examples = prompt_examples((ROOT / "README.md").read_text(encoding="utf-8"))
        self.assertTrue(examples, "the README shows no prompt-style example")
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", str(ROOT)),
            "FLASK_SKIP_DOTENV": "1",  # the developer's .env must not change what the example prints
            "FLASK_APP": "manage",  # what .flaskenv sets
        }
        for line, command, shown in examples:
            with self.subTest(readme_line=line, command=command):
                run = subprocess.run(
                    [shutil.which("bash") or "/bin/bash", "-c", command],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                self.assertEqual((run.stdout + run.stderr).splitlines(), shown, f"README.md line {line}")


class PromptExampleParsingTest(unittest.TestCase):
    def test_only_blocks_without_a_language_that_start_with_a_prompt_count(self) -> None:
        text = "```shell\n$ make run\nok\n```\n\n```\n$ flask routes\nline one\nline two\n```\n```\nplain\n```\n"
        self.assertEqual(prompt_examples(text), [(6, "flask routes", ["line one", "line two"])])


if __name__ == "__main__":
    unittest.main()
