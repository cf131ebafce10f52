"""Saving a run and putting it back: the training side of gantool.store.checkpoint.

``save`` writes everything a resume needs in one atomic file, then the networks for export and
sampling, and never a NaN; ``restore`` puts a run back exactly as it was, each rank taking its own
random streams and data order; ``open_run_folder`` readies the folder the run writes into.
"""

from __future__ import annotations

import json
from dataclasses import replace

import torch

from gantool.core.errors import GantoolError, first_line
from gantool.core.runmeta import DiscriminatorInfo, ModelInfo
from gantool.core.version import __version__
from gantool.store import checkpoint
from gantool.store import tensors as files
from gantool.store.layout import CHECKPOINT, CONFIG, DATA_SUBSET, METRICS, SAMPLES, network_file
from gantool.store.runs import config_text, point_latest, recorded_recipe, trim_metrics
from gantool.training import distributed
from gantool.training.logs import non_finite_error
from gantool.training.setup import Run


def open_run_folder(run: Run) -> None:
    """Rank 0 readies the folder: rows a killed run logged after its last checkpoint go, the config is written
    (under the line naming its recipe), and --data-limit's subset beside it."""
    if not run.ranks.main:
        return
    trim_metrics(run.run_dir / METRICS, run.start)
    (run.run_dir / SAMPLES).mkdir(parents=True, exist_ok=True)
    point_latest(run.run_dir)
    recipe = run.cfg.recipe or (recorded_recipe(run.run_dir) if run.start else None)  # a resume keeps the run's recipe
    files.atomic_write(run.run_dir / CONFIG, config_text(run.cfg.to_dict(), recipe).encode())
    if run.subset is not None:
        files.atomic_write(run.run_dir / DATA_SUBSET, (json.dumps(run.subset) + "\n").encode())
    else:  # a resume without --data-limit trains on everything: no stale record
        (run.run_dir / DATA_SUBSET).unlink(missing_ok=True)


def first_non_finite(tensors: dict[str, torch.Tensor]) -> str | None:
    """The name of the first floating tensor holding NaN or infinity, with one device sync for all of them."""
    floats = [(name, t) for name, t in tensors.items() if t.is_floating_point()]
    if not floats:
        return None
    finite = torch.stack([t.isfinite().all() for _, t in floats]).tolist()
    return next((name for (name, _), ok in zip(floats, finite) if not ok), None)


def own_rank_state(run: Run) -> checkpoint.RankState:
    cuda = torch.cuda.get_rng_state(run.device) if run.device.type == "cuda" else None
    perm, _ = run.batches.state()
    augment = run.augment
    own = checkpoint.RankState(torch.get_rng_state(), run.data_rng.get_state(), run.latent_rng.get_state(), cuda, perm)
    if augment is not None:
        own.augment_rng, own.augment = augment.generator.get_state(), augment.state()
    return own


def save(run: Run, step: int, last_saved: int) -> None:
    """The checkpoint (every rank's state gathered into rank 0's file), then G, D and G_ema; rank 0 writes."""
    nets = run.nets
    networks = {"G": nets.G, "D": nets.D} | ({"G_ema": nets.ema.model} if nets.ema is not None else {})
    _, position = run.batches.state()  # the position in the data is the same on every rank
    ranks = distributed.gather_states(own_rank_state(run).to_tensors(), run.ranks, run.device)
    state = checkpoint.TrainingState(
        step=step,
        config=run.cfg.to_dict(),
        networks={name: files.state_tensors(net) for name, net in networks.items()},
        optimizers={"opt_g": nets.opt_g.state_dict(), "opt_d": nets.opt_d.state_dict()},
        data=position,
        ranks=[checkpoint.RankState.from_tensors(own) for own in ranks],
    )
    tensors, meta = checkpoint.to_tensors(state)
    bad = first_non_finite(tensors)  # a finite loss can still come with an infinite gradient
    if bad is not None:
        raise non_finite_error(f"{bad} became NaN or infinite", step, last_saved, run.run_dir)
    if not run.ranks.main:
        return
    files.save_tensors(run.run_dir / CHECKPOINT, tensors, meta)
    for name, weights in state.networks.items():
        files.save_tensors(run.run_dir / network_file(name), weights, network_metadata(run, name, step))


def network_metadata(run: Run, name: str, step: int) -> dict[str, str]:
    """What rebuilds each saved network, written by core.runmeta, the one writer of these keys."""
    cfg = run.cfg
    if name == "D":
        info = DiscriminatorInfo(cfg.disc_name, run.data_shape, cfg.disc_opt, cfg.data, __version__, step, len(run.classes or []))
        return info.to_metadata()
    classes = None if run.classes is None else tuple(run.classes)
    g = ModelInfo(cfg.latent_dim, cfg.latent, run.data_shape, component=cfg.gen, options=cfg.gen_opt, data=cfg.data, classes=classes)
    return replace(g, gantool_version=__version__, step=step, ema=cfg.ema if name == "G_ema" else None).to_metadata()


def restore(run: Run) -> int:
    """Put ``run`` back exactly as it was at its last checkpoint; returns that step."""
    path = run.run_dir / CHECKPOINT
    tensors, meta = files.load_tensors(path)
    nets = run.nets
    try:
        state = checkpoint.from_tensors(tensors, meta, run.ranks.rank, run.ranks.world, path)
        weights = state.networks
        targets: list[tuple[str, torch.nn.Module]] = [("G", nets.G), ("D", nets.D)]
        if nets.ema is not None:  # a run resumed with an average it lacked starts it from G
            targets.append(("G_ema" if "G_ema" in weights else "G", nets.ema.model))
        for name, net in targets:
            files.load_state(net, weights.get(name, {}), f"{path} ({name})")
        # Optimizer.load_state_dict moves each state tensor to its parameter's device itself.
        checkpoint.load_optimizer(nets.opt_g, state.optimizers["opt_g"], "opt_g")
        checkpoint.load_optimizer(nets.opt_d, state.optimizers["opt_d"], "opt_d")
        own = state.ranks[0]
        run.batches.load_state(own.perm, state.data)
        torch.set_rng_state(own.torch_rng)
        run.data_rng.set_state(own.data_rng)
        run.latent_rng.set_state(own.latent_rng)
        if run.augment is not None:
            if own.augment_rng is not None:
                run.augment.generator.set_state(own.augment_rng)
            run.augment.load_state(own.augment)
        if run.device.type == "cuda" and own.cuda_rng is not None:
            torch.cuda.set_rng_state(own.cuda_rng, run.device)
    except GantoolError:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, IndexError, RuntimeError, RecursionError, json.JSONDecodeError) as exc:
        raise GantoolError(
            f"{path} does not hold usable resume state ({type(exc).__name__}: {first_line(exc)}); it was not written by gantool train, "
            "or was damaged: use another checkpoint"
        ) from None
    return state.step
