"""An image attachment on an A4 page of its own, under its heading.

Images are untrusted. Pillow opens only the raster formats a resident's phone or
scanner makes (never EPS, which Pillow hands to Ghostscript), the pixel count is
checked from the header before anything is decoded (a 50 KB PNG can claim 10
gigapixels), and the picture is decoded once, turned upright from its EXIF
orientation, reduced to at most ``MAX_SIDE`` pixels a side and written to the
build's temporary folder: a photograph as a JPEG, anything else as its pixels,
zlib-compressed. Only the image being prepared is ever decoded in memory.
Anything that fails becomes a reason the document is listed in the index only;
the original is in the zip.

reportlab only keeps the picture's place on the page (``PlacedImage``); the
assembler puts the prepared file there as an image XObject (``place_image``), a
JPEG as it is. (reportlab's own ``drawImage`` would name the image after its
file's path, which is in a random temporary folder: the bundle's bytes would
change from build to build.)
"""

from __future__ import annotations

import contextlib
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pikepdf
from pikepdf import Name
from PIL import Image, ImageOps, UnidentifiedImageError
from reportlab.platypus import Flowable, Spacer

from mailroom.records.bundle.clean import one_line
from mailroom.records.bundle.flowables import Spot, spot
from mailroom.records.bundle.headings import document_heading
from mailroom.records.bundle.model import BundleDocument
from mailroom.records.bundle.page_resources import add_xobject
from mailroom.records.bundle.styles import FRAME_HEIGHT, FRAME_WIDTH
from mailroom.records.bundle.unplaceable import Unplaceable

MAX_PIXELS = 40_000_000  # a 40-megapixel photograph; well below Image.MAX_IMAGE_PIXELS
MAX_SIDE = 2_000  # about 200 dpi on the page; a 12-megapixel JPEG decodes at half size
FORMATS = ("JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP")
HEADING_ROOM = 80.0  # points kept above the picture for its heading
NATURAL_DPI = 96.0  # a small image is drawn at this size, not blown up to the page


@dataclass(frozen=True)
class PreparedImage:
    path: Path  # the reduced copy in the build's temporary folder
    width: int  # pixels
    height: int
    encoding: Literal["jpeg", "zlib"]  # a JPEG file, or zlib-compressed pixels
    grey: bool  # one channel (L) rather than three (RGB)


def prepare_image(source: Path, workdir: Path, name: str) -> PreparedImage | Unplaceable:
    """A drawable copy of ``source`` in ``workdir`` (as ``name`` plus .jpg or .png),
    or why there is none."""
    try:
        with warnings.catch_warnings():
            # Pillow warns about odd but readable files (palette transparency, EXIF
            # quirks); the image is drawn anyway, so the warnings are not errors here.
            warnings.simplefilter("ignore")
            return _prepare(source, workdir, name)
    except Image.DecompressionBombError:
        return Unplaceable(f"image too large to draw (over {MAX_PIXELS // 1_000_000} megapixels)")
    except UnidentifiedImageError:
        return Unplaceable("not an image format the bundle draws (JPEG, PNG, GIF, BMP, TIFF, WebP)")
    except OSError as error:
        # Not str(error): the OS names the file's path, which the bundle must not show.
        return Unplaceable(
            f"unreadable image: {one_line(error.strerror or str(error) or type(error).__name__, 160)}"
        )
    except Exception as error:  # Pillow raises many kinds of error on hostile files
        return Unplaceable(f"unreadable image: {one_line(str(error) or type(error).__name__, 160)}")


def _prepare(source: Path, workdir: Path, name: str) -> PreparedImage | Unplaceable:
    with Image.open(source, formats=FORMATS) as opened:
        width, height = opened.size
        if width <= 0 or height <= 0:
            return Unplaceable("unreadable image: no pixels")
        if width * height > MAX_PIXELS:
            limit = MAX_PIXELS // 1_000_000
            return Unplaceable(f"image too large to draw: {width}×{height} pixels (limit {limit} megapixels)")
        photo = opened.format == "JPEG"
        if photo:
            # Let the JPEG decoder scale down by 1/2..1/8 while decoding, to no less
            # than the size the picture is reduced to: less memory, less time.
            scale = min(1.0, MAX_SIDE / max(width, height))
            opened.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
        picture = _flatten(_upright(opened))
        picture.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS, reducing_gap=3.0)
        grey = picture.mode == "L"
        if photo:
            target = workdir / f"{name}.jpg"
            picture.save(target, "JPEG", quality=88)
            return PreparedImage(target, picture.width, picture.height, "jpeg", grey)
        target = workdir / f"{name}.zlib"
        target.write_bytes(zlib.compress(picture.tobytes(), 6))
        return PreparedImage(target, picture.width, picture.height, "zlib", grey)


def _upright(image: Image.Image) -> Image.Image:
    # A broken EXIF block: the image is drawn as stored.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(image, in_place=True)
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """RGB or greyscale; transparency over white (as a viewer shows it)."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("1", "I;16", "I", "F"):
        return image.convert("L")
    return image.convert("RGB")


class PlacedImage(Flowable):  # type: ignore[misc]
    """The place of a prepared image, scaled into the room left on the page under
    its heading; drawing it only records where it is (``Rendered.image_spots``)."""

    def __init__(self, key: str, image: PreparedImage) -> None:
        super().__init__()
        self.key = key
        natural_width = image.width * 72.0 / NATURAL_DPI
        natural_height = image.height * 72.0 / NATURAL_DPI
        scale = min(1.0, FRAME_WIDTH / natural_width, (FRAME_HEIGHT - HEADING_ROOM) / natural_height)
        self.width = natural_width * scale
        self.height = natural_height * scale

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv._doctemplate.image_spots.append(spot(self, self.key))


def image_story(key: str, document: BundleDocument, image: PreparedImage) -> list[Flowable]:
    return [document_heading(document), Spacer(1, 6), PlacedImage(key, image)]


def place_image(pdf: pikepdf.Pdf, page: pikepdf.Page, image: PreparedImage, place: Spot) -> None:
    """Draw ``image`` on ``page`` (of ``pdf``) in the rectangle kept for it."""
    stream = pdf.make_stream(
        image.path.read_bytes(),
        Type=Name.XObject,
        Subtype=Name.Image,
        Width=image.width,
        Height=image.height,
        ColorSpace=Name.DeviceGray if image.grey else Name.DeviceRGB,
        BitsPerComponent=8,
        Filter=Name.DCTDecode if image.encoding == "jpeg" else Name.FlateDecode,
    )
    name = add_xobject(page, "BundleImage", stream)
    x0, y0, x1, y1 = place.rect
    page.contents_add(f"q {x1 - x0:.3f} 0 0 {y1 - y0:.3f} {x0:.3f} {y0:.3f} cm {name} Do Q\n".encode())
