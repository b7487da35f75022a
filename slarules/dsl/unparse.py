"""AST → canonical source text for conditions and literals (shared by `fmt` and traces)."""

from __future__ import annotations

from slarules.dsl import ast


def literal_text(v: ast.Literal | ast.ListLit) -> str:
    if isinstance(v, ast.ListLit):
        return "[" + ", ".join(literal_text(i) for i in v.items) + "]"
    if isinstance(v, ast.Bool):
        return "true" if v.value else "false"
    return v.raw


def operand_text(v: ast.Operand | ast.ListLit) -> str:
    return v.text if isinstance(v, ast.FieldRef) else literal_text(v)


def leaf_text(e: ast.Leaf) -> str:
    left = e.left.text
    if isinstance(e, ast.Compare):
        return f"{left} {e.op} {operand_text(e.right)}"
    if isinstance(e, ast.Matches):
        return f"{left} matches {e.regex.raw}"
    if isinstance(e, ast.IsSet):
        return f"{left} is not set" if e.negated else f"{left} is set"
    if isinstance(e, ast.During):
        return f"{left} during {e.calendar.value}"
    return left


def expr_text(e: ast.Expr) -> str:
    """One-line canonical text: single spaces around operators, parentheses as written."""
    if isinstance(e, ast.And):
        return " and ".join(expr_text(i) for i in e.items)
    if isinstance(e, ast.Or):
        return " or ".join(expr_text(i) for i in e.items)
    if isinstance(e, ast.Not):
        return "not " + expr_text(e.operand)
    if isinstance(e, ast.Group):
        return "(" + expr_text(e.inner) + ")"
    return leaf_text(e)
