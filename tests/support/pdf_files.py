"""Generated PDFs read back as files: fonts embedded, PDF/A-3b markers, qpdf's check."""

import io
import subprocess
import tempfile
from pathlib import Path

import pikepdf

_PROGRAMS = ("/FontFile", "/FontFile2", "/FontFile3")


def _font_embedded(font: pikepdf.Dictionary) -> bool:
    """Whether a font dictionary carries its font program (a Type 3 font is its own)."""
    if font.get("/Subtype") == "/Type3":
        return True
    if font.get("/Subtype") == "/Type0":
        return all(_font_embedded(part) for part in font.get("/DescendantFonts", []))
    descriptor = font.get("/FontDescriptor")
    return descriptor is not None and any(key in descriptor for key in _PROGRAMS)


def unembedded_fonts(pdf: bytes) -> list[str]:
    """The base names of every font in the file (pages, forms, anywhere) not embedded."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        return [
            str(obj.get("/BaseFont", "?"))
            for obj in doc.objects
            if isinstance(obj, pikepdf.Dictionary)
            and obj.get("/Type") == "/Font"
            and obj.get("/Subtype") != "/CIDFontType2"  # checked through its Type 0 parent
            and not _font_embedded(obj)
        ]


def pdffonts(pdf: bytes) -> list[tuple[str, bool]]:
    """(name, embedded) of each font poppler's pdffonts lists, a second reader's view."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.pdf"
        path.write_bytes(pdf)
        out = subprocess.run(
            ["pdffonts", str(path)], capture_output=True, text=True, check=True
        ).stdout
    fonts = []
    for line in out.splitlines()[2:]:  # after the header and its rule
        # name, type (one or two words), encoding, then emb sub uni and the object id
        fields = line.split()
        fonts.append((fields[0], fields[-5] == "yes"))
    return fonts


def qpdf_check(pdf: bytes) -> str:
    """qpdf --check's report; raises unless qpdf finds no error and no warning."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "file.pdf"
        path.write_bytes(pdf)
        result = subprocess.run(["qpdf", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr  # 2 errors, 3 warnings
    return result.stdout


def has_javascript(doc: pikepdf.Pdf) -> bool:
    """Whether any object holds JavaScript: a JS action, a name tree of scripts, or an
    additional-actions dictionary."""
    names = doc.Root.get("/Names", {})
    if "/JavaScript" in names or "/AA" in doc.Root:
        return True
    for obj in doc.objects:
        if isinstance(obj, pikepdf.Dictionary) and (
            "/JS" in obj or obj.get("/S") == "/JavaScript" or "/AA" in obj
        ):
            return True
    return False


def assert_pdfa_3b(pdf: bytes) -> None:
    """What PDF/A-3b asks of the file that a reader can check without a full validator."""
    with pikepdf.open(io.BytesIO(pdf)) as doc:
        assert not doc.is_encrypted
        meta = doc.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("3", "B")
        intents = [i for i in doc.Root.get("/OutputIntents", []) if i.get("/S") == "/GTS_PDFA1"]
        assert len(intents) == 1
        profile = intents[0].DestOutputProfile
        assert profile.N == 3 and profile.read_bytes()[36:40] == b"acsp"  # an ICC profile
        assert len(doc.trailer.ID) == 2  # the file identifier
        assert not has_javascript(doc)
        images = [o for o in doc.objects if isinstance(o, pikepdf.Stream) and "/Width" in o]
        assert not any(bool(image.get("/Interpolate", False)) for image in images)  # 6.2.8
    assert unembedded_fonts(pdf) == []
    qpdf_check(pdf)
