"""`python app.py`: the ASL GPT Gradio app on its embedded defaults (http://127.0.0.1:7860).

The same as `asl-gpt serve`; settings come from $ASL_GPT_CONFIG and ASL_GPT_* variables.
"""

import sys

from asl_gpt.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
