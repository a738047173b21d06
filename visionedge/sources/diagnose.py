"""Saying why a clip cannot be replayed, in one line with the fix."""

from __future__ import annotations

from pathlib import Path

__all__ = ["clip_problem", "convert_hint"]

# Leading bytes of the containers OpenCV's FFmpeg backend reads.
_MAGIC: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # AVI
    (4, b"ftyp"),  # MP4 / MOV / 3GP
    (4, b"moov"),
    (4, b"mdat"),
    (4, b"wide"),
    (0, b"\x1a\x45\xdf\xa3"),  # Matroska / WebM
    (0, b"OggS"),
    (0, b"FLV"),
    (0, b"\x00\x00\x01\xba"),  # MPEG-PS
    (0, b"\x00\x00\x01\xb3"),
    (0, b"\x47"),  # MPEG-TS sync byte
    (0, b"\x30\x26\xb2\x75"),  # ASF / WMV
    (0, b"\x00\x00\x00\x01"),  # raw H.264 Annex B
    (0, b"\xff\xd8"),  # a bare JPEG / MJPEG stream
    (0, b"\x89PNG"),
    (0, b"GIF8"),
)


def convert_hint(path: Path) -> str:
    """The ffmpeg command that turns ``path`` into a clip OpenCV always decodes."""
    return f"convert it with: ffmpeg -i {path.name} -c:v mjpeg -q:v 3 {path.stem}-mjpeg.avi"


def _looks_like_text(head: bytes) -> bool:
    if not head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch.isprintable() or ch in "\r\n\t" for ch in text)


def clip_problem(path: Path) -> str | None:
    """Why ``path`` cannot be a video before OpenCV tries it, or None if it might be one."""
    if not path.exists():
        return f"{path}: clip not found; check source.path (or the CLIP argument)"
    if path.is_dir():
        return (
            f"{path}: is a folder, not a video file; to replay a folder of images set "
            'source.kind = "images"'
        )
    if not path.is_file():
        return f"{path}: is not a regular file; give the path of a video file"
    try:
        with path.open("rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        return f"{path}: cannot read the clip ({exc.strerror}); check its permissions"
    if not head:
        return f"{path}: the clip is empty (0 bytes); re-record or re-copy it"
    if _looks_like_text(head):
        return (
            f"{path}: is a text file, not a video (renamed by mistake?); give the path of "
            "the real clip"
        )
    if not any(head[off:off + len(m)] == m for off, m in _MAGIC):
        return (
            f"{path}: not a recognised video container (unknown leading bytes "
            f"{head[:8].hex()}); {convert_hint(path)}"
        )
    return None
