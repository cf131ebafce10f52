"""Files that cannot attack: no pickle is ever loaded, and damaged or hostile files are clear errors.

Checkpoints and configs get shared, so every loader is fed pickles that would run code,
random bytes, truncations and well-formed files with nonsense inside (hypothesis), and
must answer with a GantoolError, never another exception and never by running the payload.
"""

from __future__ import annotations

import ast
import io
import json
import math
import pickle
import re
import shutil
import struct
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from rich.console import Console
from safetensors.torch import save as save_safetensors

import gantool
from gantool.core.errors import GantoolError
from gantool.inference.loading import load_generator
from gantool.inference.onnx_runtime import OnnxGenerator
from gantool.store import tensors as ckpt
from gantool.store.layout import CHECKPOINT
from gantool.training.config import FIELDS, build_config, read_toml, resolve_config
from gantool.training.run import train
from tests.conftest import by_tier, run_cli

GANTOOL_SOURCE = Path(gantool.__file__).parent
# Every loader of an untrusted file: a new one goes here, and gets the pickles and the fuzzing below.
LOADERS = {
    "read_metadata": ckpt.read_metadata,
    "load_tensors": ckpt.load_tensors,
    "onnx": lambda path: OnnxGenerator(path, device="cpu"),  # gantool sample's model, whatever its name
}
FUZZ = settings(max_examples=by_tier(30, 400))  # deadlines and health checks: the tier's profile (conftest.py)


def quiet() -> Console:
    return Console(file=io.StringIO())


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A tiny finished run at step 3, the material the fuzzers damage."""
    cfg = build_config(
        {
            "data": "ring",
            "data_opt": {"n": 64},
            "gen": "mlp-bn",  # BatchNorm buffers in the checkpoint too
            "gen_opt": {"hidden": 8},
            "disc_opt": {"hidden": 8},
            "batch_size": 16,
            "steps": 3,
            "sample_every": 1000,
            "device": "cpu",
        }
    )
    return train(cfg, run_dir=tmp_path_factory.mktemp("base") / "run", console=quiet())


# --- pickles that would run code ------------------------------------------------------------------


class Payload:
    """Unpickling this writes a marker file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').write('the payload ran')",)


def payloads(marker: Path, folder: Path) -> dict[str, bytes]:
    """The same attack as each pickle flavour, and as torch.save writes it (a zip of pickles)."""
    files = {f"pickle-protocol-{p}": pickle.dumps(Payload(marker), protocol=p) for p in (0, 2, 4, 5)}
    torch.save(Payload(marker), folder / "payload.pt")
    files["torch.save"] = (folder / "payload.pt").read_bytes()
    return files


def test_the_payloads_do_run_code_when_unpickled(tmp_path):
    """The control: without this, the tests below could pass with harmless files."""
    marker = tmp_path / "marker"
    for name, data in payloads(marker, tmp_path).items():
        if name == "torch.save":
            torch.load(io.BytesIO(data), weights_only=False)
        else:
            pickle.loads(data)
        assert marker.read_text() == "the payload ran", name
        marker.unlink()


@pytest.mark.parametrize("filename", [CHECKPOINT, "G.safetensors", "G.onnx"])
@pytest.mark.parametrize("loader", LOADERS)
def test_a_pickle_named_as_a_checkpoint_is_refused_and_never_runs(tmp_path, filename, loader):
    marker = tmp_path / "marker"
    for name, data in payloads(marker, tmp_path).items():
        (tmp_path / filename).write_bytes(data)
        with pytest.raises(GantoolError) as refused:
            LOADERS[loader](tmp_path / filename)
        assert "\n" not in str(refused.value) and f"{filename} is" in str(refused.value)
        assert not marker.exists(), f"{name} ran code"


def test_a_pickled_checkpoint_is_refused_by_resume_through_the_cli(tmp_path, base_run):
    run, marker = tmp_path / "r", tmp_path / "marker"
    shutil.copytree(base_run, run)
    torch.save(Payload(marker), run / CHECKPOINT)
    proc = run_cli("train", "--resume", "r", "--steps", "10", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"error: r/{CHECKPOINT} is a pickle (torch.save) file, not safetensors; gantool never unpickles files, "
        "because unpickling can run any code: point at a file gantool wrote"
    ]
    assert not marker.exists()
    (tmp_path / "c.toml").write_bytes(pickle.dumps(Payload(marker), protocol=0))
    with pytest.raises(GantoolError, match="is not valid TOML"):  # a pickle named as a config is only bad TOML
        read_toml(tmp_path / "c.toml")
    assert not marker.exists()


PICKLE_MODULES = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "shelve", "marshal", "joblib"}


@pytest.mark.parametrize(
    "args,planted",
    [
        (("--runtime", "onnx", "--model", "model.onnx"), "model.onnx"),
        (("--runtime", "torch", "--model", "r"), "r/G_ema.safetensors"),  # the generator a run with the default average means
        (("--runtime", "torch", "--model", "r", "--no-ema"), "r/G.safetensors"),
    ],
    ids=["onnx", "torch", "torch-no-ema"],
)
def test_a_pickle_given_to_sample_is_refused_and_never_runs(tmp_path, base_run, args, planted):
    marker = tmp_path / "marker"
    shutil.copytree(base_run, tmp_path / "r")
    torch.save(Payload(marker), tmp_path / planted)
    proc = run_cli("sample", *args, "--device", "cpu", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {planted} is ") and "Traceback" not in proc.stderr, proc.stderr
    assert not marker.exists()


def test_no_module_of_gantool_can_load_a_pickle():
    """A static guard: no pickle-family import, no torch.load, no numpy.load without allow_pickle=False."""
    problems = []
    for path in sorted(GANTOOL_SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            where = f"{path.relative_to(GANTOOL_SOURCE)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
                if any(n.split(".")[0] in PICKLE_MODULES for n in names):
                    problems.append(f"{where} imports {names}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = ast.unparse(node.func.value)
                call = f"{owner}.{node.func.attr}"
                if (node.func.attr == "load" and owner == "torch") or node.func.attr in ("read_pickle", "from_pickle"):
                    problems.append(f"{where} calls {call}")
                if node.func.attr == "load" and owner in ("np", "numpy"):
                    kw = {k.arg: k.value for k in node.keywords}
                    if not (isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is False):
                        problems.append(f"{where} calls {call} without allow_pickle=False")
            if isinstance(node, ast.keyword) and node.arg == "weights_only":
                problems.append(f"{where} passes weights_only")
    assert not problems, problems


# --- safetensors loaders: random, truncated, corrupted and nonsensical files ----------------------


def must_refuse_cleanly(call, *args):
    """The property every loader holds: a result or a GantoolError, nothing else."""
    try:
        result = call(*args)
    except GantoolError as exc:
        assert "\n" not in str(exc)
        event("refused: " + re.sub(r"\S*/\S*", "PATH", str(exc))[:60])  # --hypothesis-show-statistics: what the fuzzer reached
        return None
    event("accepted")
    return result


@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes(data):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "G.safetensors"
        path.write_bytes(data)
        for load in LOADERS.values():
            must_refuse_cleanly(load, path)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
tensor_entries = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "F16", "BF16", "F64", "I64", "I32", "U8", "BOOL", "F8_E4M3", "X9"]) | json_values,
        "shape": st.lists(st.integers(-2, 2**40), max_size=3) | json_values,
        "data_offsets": st.lists(st.integers(-4, 2**40), min_size=0, max_size=3) | json_values,
    }
)
headers = st.dictionaries(st.text(max_size=8), tensor_entries | json_values, max_size=4).map(lambda h: h) | json_values


@FUZZ
@given(header=headers, metadata=st.none() | json_values, body=st.binary(max_size=256), lie=st.integers(-8, 8))
def test_well_formed_headers_with_nonsense_inside(header, metadata, body, lie):
    """Valid JSON in the safetensors layout, describing impossible dtypes, shapes and offsets."""
    if isinstance(header, dict) and metadata is not None:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode()
    length = max(0, len(raw) + (lie if abs(lie) < 3 else 0))  # mostly the true length, sometimes a lie
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.safetensors"
        path.write_bytes(struct.pack("<Q", length) + raw + body)
        for load in LOADERS.values():
            must_refuse_cleanly(load, path)


@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True))
def test_every_truncation_of_a_checkpoint_is_refused(base_run, cut):
    data = (base_run / CHECKPOINT).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / CHECKPOINT
        path.write_bytes(data[: int(cut * len(data))])
        with pytest.raises(GantoolError):
            ckpt.load_tensors(path)


# The keys ModelInfo checks, and one it ignores.
GENERATOR_KEYS = ["format", "kind", "component", "options", "latent_dim", "latent", "data_shape", "output_range", "step", "ema"]
GENERATOR_KEYS += ["classes", "reference", "other"]


@FUZZ
@given(
    metadata=st.dictionaries(
        st.sampled_from(GENERATOR_KEYS),
        json_values.map(json.dumps) | st.text(max_size=8),
    )
)
# Found by a longer, targeted fuzzing of load_generator; each gave a multi-line GantoolError or another exception:
@example(metadata={"latent_dim": json.dumps(2**63)})  # torch's overflow error carries its C++ stack trace
@example(metadata={"data_shape": json.dumps([2**64])})
@example(metadata={"options": json.dumps({"hidden": 8, "num_classes": 2**70})})
@example(metadata={"options": json.dumps({"\n": 0})})  # an option name printed as it is
@example(metadata={"kind": "\n"})
@example(metadata={"reference": "true"})  # a reference that is not a list: a TypeError
@example(metadata={"options": json.dumps({"kind": 0})})  # clashed with Registry.create's own argument: a TypeError
@example(metadata={"options": json.dumps({"num_classes": 3}), "classes": json.dumps(["a", "b"])})  # passed twice: a TypeError
def test_generator_weights_with_nonsense_metadata(base_run, metadata):
    """G.safetensors whose metadata lies (the torch sampler builds a network from it): a generator or a clear error."""
    tensors, real = ckpt.load_tensors(base_run / "G.safetensors")
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        shutil.copytree(base_run, run)
        (run / "G.safetensors").write_bytes(save_safetensors(tensors, metadata={**real, **metadata}))
        must_refuse_cleanly(lambda r: load_generator(r, ema=False), run)  # the run also has G_ema: load the file that lies


# --- config files ---------------------------------------------------------------------------------


def toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"


toml_scalars = st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | st.text(max_size=10)
toml_values = st.recursive(
    toml_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8
)
config_keys = st.sampled_from(sorted(FIELDS | {k.replace("_", "-") for k in FIELDS} | {"nope"}))


@FUZZ
@given(text=st.text(max_size=300) | st.binary(max_size=300))
def test_random_config_files(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_bytes(text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text)
        must_refuse_cleanly(read_toml, path)


@FUZZ
@given(values=st.dictionaries(config_keys, toml_values, max_size=6))
def test_config_files_with_every_wrong_type(values):
    """Valid TOML naming real settings with values of any type: a TrainConfig that validates, or a clear error."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "c.toml"
        path.write_text("".join(f"{json.dumps(k)} = {toml_value(v)}\n" for k, v in values.items()))
        cfg = must_refuse_cleanly(resolve_config, {}, path)
        if cfg is not None:
            cfg.validate()


# --- resume from a damaged checkpoint -------------------------------------------------------------

mutations = st.lists(
    st.one_of(
        st.tuples(st.just("drop-tensor"), st.integers(0, 10**6)),
        st.tuples(
            st.just("reshape-tensor"),
            st.integers(0, 10**6),
            st.sampled_from([torch.float32, torch.float16, torch.int64, torch.uint8, torch.bool]),
            st.lists(st.integers(0, 5), max_size=3),
        ),
        st.tuples(st.just("scramble-tensor"), st.integers(0, 10**6), st.integers(0, 2**32 - 1)),
        st.tuples(st.just("drop-meta"), st.sampled_from(["step", "opt_g", "opt_d", "data", "config"])),
        st.tuples(
            st.just("set-meta"),
            st.sampled_from(["step", "opt_g", "opt_d", "data"]),
            json_values.map(json.dumps) | st.text(max_size=12),
        ),
    ),
    min_size=1,
    max_size=3,
)


def damage(tensors: dict[str, torch.Tensor], meta: dict[str, str], change: tuple) -> None:
    names = sorted(tensors)
    kind = change[0]
    if kind == "drop-tensor":
        del tensors[names[change[1] % len(names)]]
    elif kind == "reshape-tensor":
        tensors[names[change[1] % len(names)]] = torch.zeros(change[3], dtype=change[2])
    elif kind == "scramble-tensor":
        name = names[change[1] % len(names)]
        old = tensors[name]
        size = old.numel() * old.element_size()
        noise = torch.randint(0, 256, (size,), generator=torch.Generator().manual_seed(change[2]), dtype=torch.uint8)
        tensors[name] = noise.view(old.dtype).reshape(old.shape)
    elif kind == "drop-meta":
        meta.pop(change[1], None)
    else:
        meta[change[1]] = change[2]


def resume(run: Path) -> Path:
    return train(resolve_config({"steps": 5}, resume=run), resume=run, console=quiet())


def test_the_undamaged_base_run_resumes(base_run, tmp_path):
    """The control for the fuzzer below: damage is what makes it fail, not the set-up."""
    shutil.copytree(base_run, tmp_path / "run")
    resume(tmp_path / "run")


@settings(max_examples=by_tier(15, 150))  # each example resumes a run
@given(changes=mutations)
def test_resume_from_a_damaged_checkpoint_trains_or_says_why(base_run, changes):
    tensors, meta = ckpt.load_tensors(base_run / CHECKPOINT)
    for change in changes:
        damage(tensors, meta, change)
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        shutil.copytree(base_run, run)
        (run / CHECKPOINT).write_bytes(save_safetensors(tensors, metadata=meta))
        must_refuse_cleanly(resume, run)


@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=4))
def test_resume_from_a_checkpoint_with_corrupted_bytes(base_run, flips):
    data = bytearray((base_run / CHECKPOINT).read_bytes())
    header = 8 + struct.unpack("<Q", data[:8])[0]
    for where, value in flips:  # half the damage in the header, where it hurts most
        data[int(where * (header if value % 2 else len(data)))] = value
    with tempfile.TemporaryDirectory() as folder:
        run = Path(folder) / "run"
        shutil.copytree(base_run, run)
        (run / CHECKPOINT).write_bytes(bytes(data))
        must_refuse_cleanly(resume, run)
