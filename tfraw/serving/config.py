"""TF Serving ``models.config`` (a text-format ``ModelServerConfig``) for a folder of exports."""

from __future__ import annotations

from pathlib import Path

__all__ = ["find_exports", "models_config"]


def find_exports(models_dir: str | Path) -> dict[str, list[int]]:
    """``{model name: sorted versions}`` of the ``<name>/<int version>/saved_model.pb`` folders."""
    found: dict[str, list[int]] = {}
    root = Path(models_dir)
    for model_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        versions = sorted(
            int(v.name)
            for v in model_dir.iterdir()
            if v.name.isdigit() and (v / "saved_model.pb").is_file()
        )
        if versions:
            found[model_dir.name] = versions
    return found


def models_config(
    models_dir: str | Path, base_path: str | None = None, all_versions: bool = False
) -> str:
    """The ``--model_config_file`` text for every export under ``models_dir``.

    Args:
        models_dir: the folder holding ``<name>/<version>/`` exports.
        base_path: the folder as the server sees it (e.g. ``/models`` inside the Docker image);
            default: the absolute path of ``models_dir``.
        all_versions: serve every version (``model_version_policy { all {} }``) instead of the
            latest only (TF Serving's default).

    Returns:
        Text-format ``tensorflow.serving.ModelServerConfig``.
    """
    from tfraw.errors import InputError

    exports = find_exports(models_dir)
    if not exports:
        raise InputError(f"no SavedModel exports (<name>/<version>/saved_model.pb) in {models_dir}")
    prefix = base_path.rstrip("/") if base_path else str(Path(models_dir).resolve())
    lines = ["model_config_list {"]
    for name in exports:
        lines += [
            "  config {",
            f'    name: "{name}"',
            f'    base_path: "{prefix}/{name}"',
            '    model_platform: "tensorflow"',
        ]
        if all_versions:
            lines.append("    model_version_policy { all {} }")
        lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"
