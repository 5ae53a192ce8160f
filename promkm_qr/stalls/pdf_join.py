"""Join many PDF files into one while holding only one input in memory at a time.

A city's posters are rendered in chunks of a hundred or so pages; pypdf's writer would keep
every page of every chunk in memory until the end. Here each chunk is read, its pages and
everything they reference are renumbered and written straight to the output file, and only
the byte offsets (for the cross-reference table) and the page references are kept.
"""

from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, NumberObject

_CATALOG, _PAGES = 1, 2
_INHERITED = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")


class _Joiner:
    """Writes renumbered objects to the output and remembers where each one starts."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.offsets: list[int] = [0, 0, 0]  # object 0 is free; 1 and 2 are written last
        self.kids: list[IndirectObject] = []
        self.out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")

    def _write(self, number: int, obj) -> None:
        self.offsets[number] = self.out.tell()
        self.out.write(f"{number} 0 obj\n".encode())
        obj.write_to_stream(self.out)
        self.out.write(b"\nendobj\n")

    def _reserve(self) -> int:
        self.offsets.append(0)
        return len(self.offsets) - 1

    def add(self, source) -> int:
        """Copy every page of one PDF (path or file object); returns the number of pages."""
        reader = PdfReader(source)
        numbers: dict[int, int] = {}
        pending: list[IndirectObject] = []

        def remap(obj):
            # Rewrites references in place: the reader is thrown away after this file.
            if isinstance(obj, IndirectObject):
                if obj.pdf is None:  # already renumbered: a shared object seen again
                    return obj
                if obj.idnum not in numbers:
                    numbers[obj.idnum] = self._reserve()
                    pending.append(obj)
                return IndirectObject(numbers[obj.idnum], 0, None)
            if isinstance(obj, DictionaryObject):  # includes streams
                for key in list(obj):
                    obj[key] = remap(obj.raw_get(key))
            elif isinstance(obj, ArrayObject):
                for i, item in enumerate(obj):
                    obj[i] = remap(item)
            return obj

        page_ids = set()
        for page in reader.pages:
            page_obj = page.get_object()
            # The page leaves its old tree, so it keeps what it inherited from it.
            for key in _INHERITED:
                if key not in page_obj and page.get_inherited(key, None) is not None:
                    page_obj[NameObject(key)] = page.get_inherited(key, None)
            del page_obj["/Parent"]
            page_ids.add(page.indirect_reference.idnum)
            self.kids.append(remap(page.indirect_reference))
        while pending:
            original = pending.pop()
            obj = remap(original.get_object())
            if original.idnum in page_ids:
                obj[NameObject("/Parent")] = IndirectObject(_PAGES, 0, None)
            self._write(numbers[original.idnum], obj)
        return len(page_ids)

    def finish(self) -> None:
        """Write the page tree, the catalog, the cross-reference table and the trailer."""
        pages = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Pages"),
                NameObject("/Kids"): ArrayObject(self.kids),
                NameObject("/Count"): NumberObject(len(self.kids)),
            }
        )
        self._write(_PAGES, pages)
        catalog = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Catalog"),
                NameObject("/Pages"): IndirectObject(_PAGES, 0, None),
            }
        )
        self._write(_CATALOG, catalog)
        xref = self.out.tell()
        lines = [f"xref\n0 {len(self.offsets)}\n", "0000000000 65535 f \n"]
        lines += [f"{offset:010d} 00000 n \n" for offset in self.offsets[1:]]
        self.out.write("".join(lines).encode())
        self.out.write(
            f"trailer\n<< /Size {len(self.offsets)} /Root {_CATALOG} 0 R >>\n"
            f"startxref\n{xref}\n%%EOF\n".encode()
        )


def join_pdfs(sources: Iterable[Path | BinaryIO], out: BinaryIO) -> int:
    """Append the pages of each source PDF, in order, to one PDF written to out."""
    joiner = _Joiner(out)
    pages = sum(joiner.add(source) for source in sources)
    joiner.finish()
    return pages
