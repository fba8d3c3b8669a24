"""PDFs: strip everything active or identifying (pikepdf), build one from photos, and draw
the first page's preview and thumbnail (PDFium). Runs inside the sandboxed worker only.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import pikepdf
import pypdfium2
from pikepdf import Array, Dictionary, Name
from PIL import Image

from locker.sanitize.errors import DamagedFile, EncryptedPdf, TypeMismatch
from locker.sanitize.images import PREVIEW_SIDE, Previews, pixels_previews

# Keys that carry scripts, automatic actions, attachments, forms' XFA or metadata.
REMOVED_KEYS = (
    "/JS",
    "/JavaScript",
    "/AA",
    "/OpenAction",
    "/EmbeddedFiles",
    "/EmbeddedFile",
    "/XFA",
    "/Metadata",
    "/PieceInfo",
    "/RichMediaContent",
)
# Actions that run code, open other files or reach the network.
ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/URI",
        "/GoToR",
        "/GoToE",
        "/SubmitForm",
        "/ImportData",
        "/ResetForm",
        "/Rendition",
        "/RichMediaExecute",
        "/Sound",
        "/Movie",
        "/Hide",
        "/SetOCGState",
        "/Trans",
        "/GoTo3DView",
    }
)
ACTIVE_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D"}
)
# A stream's data kept in another file or at a URL (/F, /FFilter, /FDecodeParms), a
# reference XObject's outside page (/Ref) and an OPI proxy's outside image: a reader would
# fetch them when the page is shown, telling a stranger that, when and where it was opened.
EXTERNAL_STREAM_KEYS = ("/F", "/FFilter", "/FDecodeParms", "/Ref", "/OPI")
MAX_PAGES = 500


def sanitize_pdf(source: Path, out: BinaryIO) -> int:
    """Write to `out` a copy of the PDF with no script, action, attachment, link, metadata
    or original document ID; return its page count.

    Encrypted PDFs and PDFs that qpdf has to repair are refused. Nothing is written before
    every check has passed.
    """
    try:
        pdf = pikepdf.open(source)
    except pikepdf.PasswordError as exc:
        raise EncryptedPdf("password") from exc
    except pikepdf.PdfError as exc:
        raise DamagedFile("pdf structure") from exc
    with pdf:
        if pdf.is_encrypted:
            raise EncryptedPdf("encrypted")
        if pdf.get_warnings():
            raise DamagedFile("pdf needed repair")
        try:
            pages = len(pdf.pages)
        except pikepdf.PdfError as exc:
            raise DamagedFile("page tree") from exc
        if not 1 <= pages <= MAX_PAGES:
            raise DamagedFile("page count")
        _strip(pdf)
        try:
            # Streams are copied as they are (qpdf neither decodes nor recompresses them:
            # what we remove lives in dictionaries), in one sequential pass that `out` can
            # forward while it is written. The original /ID would link the stored copy to
            # the file on the person's phone: qpdf writes a fresh one instead.
            pdf.save(
                out,
                fix_metadata_version=False,
                linearize=False,
                compress_streams=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
                recompress_flate=False,
                object_stream_mode=pikepdf.ObjectStreamMode.preserve,
            )
        except pikepdf.PdfError as exc:
            raise DamagedFile("pdf rewrite") from exc
        if pdf.get_warnings():
            raise DamagedFile("pdf needed repair")
    return pages


def _strip(pdf: pikepdf.Pdf) -> None:
    root = pdf.Root
    names = root.get("/Names")
    if isinstance(names, Dictionary):
        _drop(names, ("/JavaScript", "/EmbeddedFiles"))
    _drop(root, ("/OpenAction", "/AA", "/Metadata", "/URI", "/SpiderInfo"))
    _drop(pdf.trailer, ("/Info", "/ID"))
    for page in pdf.pages:
        annotations = page.obj.get("/Annots")
        if isinstance(annotations, Array):
            kept = [a for a in annotations if _keep_annotation(a)]
            page.obj["/Annots"] = Array(kept)
    for obj in list(pdf.objects):
        if isinstance(obj, pikepdf.Stream):
            _drop(obj.stream_dict, EXTERNAL_STREAM_KEYS)
        for node in _walk(obj):
            _neutralise(node)


def _walk(obj: object) -> Iterator[Dictionary]:
    # Direct children only: indirect objects are reached by the outer loop over pdf.objects.
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Stream):
            yield item.stream_dict
            stack.extend(_direct(item.stream_dict.values()))
        elif isinstance(item, Dictionary):
            yield item
            stack.extend(_direct(item.values()))
        elif isinstance(item, Array):
            stack.extend(_direct(item))


def _direct(values: Iterable[object]) -> list[object]:
    return [
        v
        for v in values
        if isinstance(v, Dictionary | Array | pikepdf.Stream) and not v.is_indirect
    ]


def _drop(node: pikepdf.Object, keys: Iterable[str]) -> None:
    for key in keys:
        if key in node:
            del node[key]


def _neutralise(node: Dictionary) -> None:
    _drop(node, REMOVED_KEYS)
    for key in ("/A", "/Next", "/PA"):
        action = node.get(key)
        if isinstance(action, Dictionary | Array) and _is_active(action):
            del node[key]
    if node.get("/S") in ACTIVE_ACTIONS:
        _drop(node, ("/S", "/F", "/URI", "/Win", "/Unix", "/Mac", "/Fields", "/D"))


def _is_active(action: object) -> bool:
    if isinstance(action, Array):
        return any(_is_active(item) for item in action)
    return isinstance(action, Dictionary) and action.get("/S") in ACTIVE_ACTIONS


def _keep_annotation(annotation: object) -> bool:
    return not (
        isinstance(annotation, Dictionary) and annotation.get("/Subtype") in ACTIVE_ANNOTATIONS
    )


def pdf_from_jpegs(pages: Sequence[tuple[bytes, int, int, str]]) -> bytes:
    """One PDF page per (JPEG bytes, width, height, mode), in order, sized to fit A4."""
    pdf = pikepdf.new()
    for jpeg, width, height, mode in pages:
        # The photo's long side spans an A4 page's long side (842 pt).
        scale = 842 / max(width, height)
        page_width, page_height = round(width * scale, 2), round(height * scale, 2)
        image = pikepdf.Stream(pdf, jpeg)
        image["/Type"] = Name.XObject
        image["/Subtype"] = Name.Image
        image["/Width"] = width
        image["/Height"] = height
        image["/ColorSpace"] = Name.DeviceGray if mode == "L" else Name.DeviceRGB
        image["/BitsPerComponent"] = 8
        image["/Filter"] = Name.DCTDecode
        content = f"q {page_width} 0 0 {page_height} 0 0 cm /Im0 Do Q".encode()
        page = Dictionary(
            Type=Name.Page,
            MediaBox=Array([0, 0, page_width, page_height]),
            Resources=Dictionary(XObject=Dictionary(Im0=image)),
            Contents=pikepdf.Stream(pdf, content),
        )
        pdf.pages.append(pikepdf.Page(pdf.make_indirect(page)))
    out = io.BytesIO()
    pdf.save(out, fix_metadata_version=False, deterministic_id=True)
    pdf.close()
    return out.getvalue()


def pdf_previews(clean: Path, page: int = 0) -> Previews:
    """A page's preview and thumbnail (the first's unless told), drawn from the already
    sanitised PDF."""
    # Read through an open file: pdfium, given a name, makes it absolute, and the child
    # that gave up root may reach its folder only as its working directory.
    with open(clean, "rb") as handle:
        return pixels_previews(_page(handle, page))


def _page(handle: BinaryIO, index: int) -> Image.Image:
    try:
        document = pypdfium2.PdfDocument(handle)
    except pypdfium2.PdfiumError as exc:
        raise TypeMismatch("pdfium cannot read it") from exc
    try:
        if not 0 <= index < len(document):
            raise DamagedFile("no such page")
        page = document[index]
        width, height = page.get_size()
        # A page has no pixels of its own: its long side is drawn at the preview's.
        scale = PREVIEW_SIDE / max(width, height, 1.0)
        bitmap = page.render(scale=scale)
        image: Image.Image = bitmap.to_pil()
        page.close()
    except pypdfium2.PdfiumError as exc:
        raise DamagedFile("page") from exc
    finally:
        document.close()
    return image if image.mode == "RGB" else image.convert("RGB")
