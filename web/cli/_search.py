"""`casevault search` and `casevault reindex`: the only commands that open the search indexes."""

from __future__ import annotations

import click

from web.cli._exit import guard
from web.cli._operator import acting_for, case_named, open_vault, user_named
from web.cli._output import clock, print_json, progress

SORTS = ("relevance", "newest", "oldest")  # search.Sort's values, without importing Whoosh for --help


@click.command("search")
@click.argument("query")
@click.option("--as", "as_user", required=True, help="Search as this user (the policy decides what they find).")
@click.option("--case", "case_name", help="Only this case.")
@click.option("--page", default=1, show_default=True, type=int)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True,
              help="Most relevant first, or by the day each document came in (newest or oldest first).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@guard
def search_command(query: str, as_user: str, case_name: str | None, page: int, sort: str, as_json: bool) -> None:
    """Search what USER may see: words, "phrases", AND/OR/NOT, speaker:, kind:, date:, word*, word~."""
    from search import Search

    with open_vault() as vault, progress("indexing") as advance, Search.open(vault, progress=advance) as search:
        results = search.search(user_named(vault, as_user), query, actor=acting_for(as_user), page=page, sort=sort,
                                case=case_named(vault, case_name) if case_name else None)
    if as_json:
        print_json(results.to_json())
        return
    click.echo(f"{results.total} results" + (f", page {results.page}" if results.total > 10 else ""))
    for hit in results.hits:
        where = hit.location.get("page") and f"page {hit.location['page']}" or (
            f"turn {hit.location.get('turn')} [{clock(hit.location.get('start_ms'))}] {hit.location.get('speaker') or '?'}")
        click.echo(f"\n{hit.document_id}  {hit.case}  {hit.kind}  {hit.location['date'] or 'no date'} (uploaded {hit.location['uploaded']})  {where}  score {hit.score:.2f}")
        for snippet in hit.snippets:
            click.echo(f"  {snippet.text}")
    for name, counts in results.facets.items():
        if counts:
            click.echo(f"\n{name}: " + ", ".join(f"{k} ({v})" for k, v in list(counts.items())[:10]))


@click.command()
@click.option("--case", "case_name", help="Only this case.")
@guard
def reindex(case_name: str | None) -> None:
    """Rebuild the search indexes from the vault (they are a cache the vault can always rebuild)."""
    from search import Search

    with open_vault() as vault, progress("reindexing") as advance:
        search = Search(vault, vault.settings.index_dir)
        with search:
            count = search.reindex(case_named(vault, case_name) if case_name else None, advance)
    click.echo(f"{count} documents indexed")
