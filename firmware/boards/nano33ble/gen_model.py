"""PlatformIO pre-build step: model_data.cc and model_ops.h from the model card, with the
same CMake script the other targets use (cmake -P), into the build directory."""

import subprocess
from pathlib import Path

Import("env")  # noqa: F821  (PlatformIO's SCons global)

fw = Path(env.subst("$PROJECT_DIR")).resolve().parents[1]  # noqa: F821
gen = Path(env.subst("$BUILD_DIR")) / "gen"  # noqa: F821
gen.mkdir(parents=True, exist_ok=True)
data = fw.parent / "visionedge" / "data"
# The MCU preset linked in (visionedge/data/models/NAME); `custom_ve_model = demo` in
# platformio.ini links the generated-shapes demo model instead.
model = env.GetProjectOption("custom_ve_model", "tiny_pva_gray")  # noqa: F821
script = gen / "generate.cmake"
script.write_text(
    f'set(VE_MODEL "{model}")\n'
    f'set(VE_GEN_DIR "{gen}")\n'
    f'include("{fw / "tflm" / "model_from_card.cmake"}")\n'
    f've_resolve_model("{data}")\n'
    "ve_generate_model_sources()\n"
)
subprocess.run(["cmake", "-P", str(script)], check=True, timeout=120)
env.Append(PIOBUILDFILES=[env.Object(str(gen / "model_data.cc"))])  # noqa: F821
