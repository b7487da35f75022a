"""`python -m slarules.dsl`: regenerate the shipped parser tables after editing the grammar."""

from slarules.dsl import tables
from slarules.dsl.parser import GRAMMAR_PATH, build_parser

tables.write(build_parser(cache=False), GRAMMAR_PATH.read_text(encoding="utf-8"))
print(f"wrote {tables.TABLES_PATH.name} and {tables.META_PATH.name}")
