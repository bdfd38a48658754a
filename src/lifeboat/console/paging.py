"""Pages of a long list: which rows a page shows, and links to the others that keep the filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

MAX_PAGE = 1_000_000  # far past any list; keeps an offset small enough for every database
SIZES = (10, 25, 50, 100)  # rows a page may show (?per=)


@dataclass(frozen=True)
class Paging:
    number: int
    size: int

    @classmethod
    def at(cls, number: int, size: int) -> Paging:
        return cls(min(max(number, 1), MAX_PAGE), size)

    @staticmethod
    def size_of(per: str | None, default: int) -> int:
        """The page size asked for (one of ``SIZES``), else ``default``."""
        return int(per) if per and per.isdigit() and int(per) in SIZES else default

    @property
    def limit(self) -> int:
        return self.size

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def of(self, total: int, path: str, filters: dict[str, str]) -> dict[str, Any]:
        """What the template's pager shows: 'Showing 51–100 of 10,000', previous and next links."""
        pages = max(1, -(-total // self.size))
        first = self.offset + 1 if total else 0
        return {
            "number": self.number,
            "pages": pages,
            "total": total,
            "first": first,
            "last": min(self.offset + self.size, total),
            "previous": self._link(path, filters, self.number - 1) if self.number > 1 else None,
            "next": self._link(path, filters, self.number + 1) if self.number < pages else None,
        }

    @staticmethod
    def _link(path: str, filters: dict[str, str], number: int) -> str:
        query = {**filters, **({"page": str(number)} if number > 1 else {})}
        return path + (f"?{urlencode(query)}" if query else "")
