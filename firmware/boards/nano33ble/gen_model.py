"""PlatformIO pre-build step: model_data.cc and model_ops.h from the model card, with the
same CMake script the other targets use (cmake -P), into the build directory."""

import subprocess
from pathlib import Path

Import("env")  # noqa: F821  (PlatformIO's SCons global)

fw = Path(env.subst("$PROJECT_DIR")).resolve().parents[1]  # noqa: F821
gen = Path(env.subst("$BUILD_DIR")) / "gen"  # noqa: F821
gen.mkdir(parents=True, exist_ok=True)
data = fw.parent / "visionedge" / "data"
script = gen / "generate.cmake"
script.write_text(
    f'set(VE_MODEL_CARD "{data / "demo_card.json"}")\n'
    f'set(VE_MODEL_TFLITE "{data / "demo_int8.tflite"}")\n'
    f'set(VE_GEN_DIR "{gen}")\n'
    f'include("{fw / "tflm" / "model_from_card.cmake"}")\n'
    "ve_generate_model_sources()\n"
)
subprocess.run(["cmake", "-P", str(script)], check=True, timeout=120)
env.Append(PIOBUILDFILES=[env.Object(str(gen / "model_data.cc"))])  # noqa: F821
