"""Big PDFs for tests and benchmarks: pages of incompressible raw images, which qpdf copies
as they are (so a file's size is what it will cost to clean and store)."""

from __future__ import annotations

import secrets

import pikepdf


def add_noise_page(pdf: pikepdf.Pdf, side: int) -> None:
    """Append a page showing one `side` x `side` RGB image of random bytes (3 side² bytes)."""
    image = pikepdf.Stream(pdf, secrets.token_bytes(side * side * 3))
    image["/Type"], image["/Subtype"] = pikepdf.Name.XObject, pikepdf.Name.Image
    image["/Width"], image["/Height"] = side, side
    image["/ColorSpace"], image["/BitsPerComponent"] = pikepdf.Name.DeviceRGB, 8
    page = pdf.add_blank_page(page_size=(595, 595))
    page.obj["/Resources"] = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj["/Contents"] = pikepdf.Stream(pdf, b"q 595 0 0 595 0 0 cm /Im0 Do Q")
