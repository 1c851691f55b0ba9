from sqlalchemy import text
def test_dbg(db_session):
    rows = db_session.execute(text("select id, item_id, status, agency_id from evidence_captures")).all()
    items = db_session.execute(text("select id, canonical_url from items")).all()
    print("CAPS", rows, "ITEMS", items)
    assert not rows
