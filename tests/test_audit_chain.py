"""The audit chain (审计日志): every change appends a hash-chained entry, and `peixun verify_audit`
notices any entry edited, deleted or moved directly in the database (第二十条: data must not be
altered, and alteration must be evident)."""

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connection, connections, transaction

from peixun.accounts.services import person_register
from peixun.core.audit import GENESIS, audit_record, entry_digest, verify_chain
from peixun.core.errors import PeixunError
from peixun.core.identity import id_check_char, mask_id_number
from peixun.core.models import AuditChainHead, AuditEntry, CalendarDay, RuleSettings
from peixun.core.services import calendar_set_day, current_rule_settings, rule_settings_change

CONTENT_FIELDS = [
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "area_id",
    "organisation_id",
    "before",
    "after",
]


def id_number(first17: str) -> str:
    return first17 + id_check_char(first17)


@pytest.fixture
def chain(world) -> list[int]:
    """The world's entries plus a few more through the real services; the ids, oldest first."""
    person_register(
        id_number=id_number("15010219900517123"),
        name="高娃",
        actor=world.inst_a_operator,
        organisation=world.inst_a,
        phone="13500000000",
    )
    rule_settings_change(actor=world.region_admin, reason="按自治区新规调整", opening_review_workdays=7)
    calendar_set_day(actor=world.region_admin, date=dt.date(2026, 9, 29), kind=CalendarDay.Kind.HOLIDAY)
    person_register(id_number=id_number("15020319850101246"), name="刘洋", actor=world.inst_b_operator)
    rule_settings_change(actor=world.region_admin, reason="线上学时比例", online_max_share=Decimal("0.30"))
    ids = list(AuditEntry.objects.order_by("id").values_list("id", flat=True))
    assert len(ids) >= 10
    return ids


def verify_command() -> str:
    out = StringIO()
    call_command("verify_audit", stdout=out)
    return out.getvalue()


def swap(first_id: int, second_id: int, fields: list[str]) -> None:
    """Exchange the given columns of two rows, as someone editing the table directly would."""
    first = AuditEntry.objects.filter(pk=first_id).values(*fields).get()
    second = AuditEntry.objects.filter(pk=second_id).values(*fields).get()
    if "hash" in fields:  # the column is unique: move one out of the way first
        AuditEntry.objects.filter(pk=first_id).update(hash="x" * 64)
    AuditEntry.objects.filter(pk=second_id).update(**first)
    AuditEntry.objects.filter(pk=first_id).update(**second)


# --- an intact chain ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_untouched_chain_verifies(chain):
    """第二十条: entries made by the services form an unbroken chain."""
    assert verify_chain() is None
    head = AuditChainHead.objects.get()
    assert head.entry_count == len(chain)
    assert head.last_entry_id == chain[-1]
    assert head.last_hash == AuditEntry.objects.get(pk=chain[-1]).hash


@pytest.mark.django_db
def test_each_entry_links_to_the_one_before(chain):
    entries = list(AuditEntry.objects.order_by("id"))
    assert entries[0].prev_hash == GENESIS
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.prev_hash == previous.hash
        assert entry.hash == entry_digest(entry)
    assert len({e.hash for e in entries}) == len(entries)


@pytest.mark.django_db
def test_the_services_record_who_did_what(chain, world):
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert "person.created" in actions
    assert "person.affiliated" in actions
    assert actions.count("rule_settings.changed") == 2
    assert "calendar.day_set" in actions
    change = AuditEntry.objects.filter(action="rule_settings.changed").order_by("id").first()
    assert change.actor == world.region_admin
    assert change.actor_name == "王建国"


@pytest.mark.django_db
def test_the_command_reports_an_intact_chain(chain):
    assert f"审计链完整：共 {len(chain)} 条" in verify_command()


@pytest.mark.django_db
def test_an_empty_chain_verifies(db):
    assert not AuditEntry.objects.exists()
    assert verify_chain() is None
    assert "共 0 条" in verify_command()


# --- tampering ----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("action", "person.deleted"),
        ("actor_name", "系统"),
        ("object_repr", "改过的对象"),
        ("object_id", "999"),
        ("after", {"opening_review_workdays": 5}),
        ("before", None),
        ("at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        ("actor_id", None),
        ("area_id", None),
    ],
)
def test_it_detects_a_field_edited_in_a_middle_entry(chain, field, value):
    """第二十条: editing any recorded field breaks that entry's hash, and the entry is named."""
    # the first settings change: made by a named user, with before and after, amid the chain
    middle = AuditEntry.objects.filter(action="rule_settings.changed").order_by("id").first().pk
    assert chain[0] < middle < chain[-1]
    if field == "area_id":  # settings have no area: take a person entry, which has one
        middle = AuditEntry.objects.filter(action="person.created").order_by("id").last().pk
        assert chain[0] < middle < chain[-1]
    original = AuditEntry.objects.filter(pk=middle).values_list(field, flat=True).get()
    assert original != value
    assert AuditEntry.objects.filter(pk=middle).update(**{field: value}) == 1
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == middle
    assert f"第{middle}条" in problem.message


@pytest.mark.django_db
def test_it_detects_a_middle_entry_edited_with_raw_sql(chain):
    """第二十条: an UPDATE by hand in the database is caught the same way."""
    middle = chain[len(chain) // 2]
    table = connection.ops.quote_name(AuditEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_name = %s WHERE id = %s", ["某人", middle])  # noqa: S608
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == middle
    with pytest.raises(CommandError) as exc:
        verify_command()
    assert f"第{middle}条" in str(exc.value)


@pytest.mark.django_db
def test_it_detects_an_edited_entry_even_when_its_hash_is_recomputed(chain):
    """第二十条: re-hashing the edited entry does not help, the next entry still points at the old hash."""
    middle, following = chain[len(chain) // 2], chain[len(chain) // 2 + 1]
    AuditEntry.objects.filter(pk=middle).update(object_repr="改过的对象")
    AuditEntry.objects.filter(pk=middle).update(hash=entry_digest(AuditEntry.objects.get(pk=middle)))
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == following
    assert "前序哈希" in problem.message


@pytest.mark.django_db
def test_it_detects_an_edited_entry_rehashed_and_relinked_into_the_next(chain):
    """第二十条: each hash covers the link to the previous entry, so patching the next entry's link
    breaks that entry's own hash; a forger would have to rewrite the whole rest of the chain."""
    middle, following = chain[len(chain) // 2], chain[len(chain) // 2 + 1]
    AuditEntry.objects.filter(pk=middle).update(object_repr="改过的对象")
    new_hash = entry_digest(AuditEntry.objects.get(pk=middle))
    AuditEntry.objects.filter(pk=middle).update(hash=new_hash)
    AuditEntry.objects.filter(pk=following).update(prev_hash=new_hash)
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == following
    assert "哈希不符" in problem.message


@pytest.mark.django_db
def test_it_detects_a_deleted_middle_entry(chain):
    """第二十条: the entry after a deleted one no longer links to its predecessor."""
    middle, following = chain[len(chain) // 2], chain[len(chain) // 2 + 1]
    AuditEntry.objects.filter(pk=middle).delete()
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == following
    assert f"第{following}条" in problem.message
    with pytest.raises(CommandError, match=f"第{following}条"):
        verify_command()


@pytest.mark.django_db
def test_it_detects_a_deleted_first_entry(chain):
    AuditEntry.objects.filter(pk=chain[0]).delete()
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == chain[1]


@pytest.mark.django_db
def test_it_detects_a_deleted_last_entry_through_the_chain_head(chain):
    """第二十条: no remaining entry reveals a deleted tail; the chain head's count and last hash do."""
    AuditEntry.objects.filter(pk=chain[-1]).delete()
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == chain[-1]
    assert "末尾" in problem.message
    assert f"应有{len(chain)}条" in problem.message
    assert f"实有{len(chain) - 1}条" in problem.message
    with pytest.raises(CommandError, match="末尾"):
        verify_command()


@pytest.mark.django_db
def test_it_detects_the_last_two_entries_deleted(chain):
    AuditEntry.objects.filter(pk__in=chain[-2:]).delete()
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == chain[-1]


@pytest.mark.django_db
def test_it_detects_a_deleted_chain_head(chain):
    AuditChainHead.objects.all().delete()
    problem = verify_chain()
    assert problem is not None
    assert "链头" in problem.message


@pytest.mark.django_db
def test_it_detects_an_entry_appended_without_the_chain_head(chain):
    """An entry forged at the end, correctly linked and hashed but not through audit_record."""
    last = AuditEntry.objects.get(pk=chain[-1])
    forged = AuditEntry(
        at=last.at,
        actor_name="系统",
        action="person.created",
        object_repr="伪造",
        prev_hash=last.hash,
        hash="pending",
    )
    forged.save()
    forged.hash = entry_digest(forged)
    AuditEntry.objects.filter(pk=forged.pk).update(hash=forged.hash)
    problem = verify_chain()
    assert problem is not None
    assert "末尾" in problem.message


@pytest.mark.django_db
def test_it_detects_two_entries_whose_whole_rows_were_swapped(chain):
    """第二十条: moving entries (swapping every column but the id) breaks the chain at the first of them."""
    first, second = chain[3], chain[6]
    swap(first, second, [*CONTENT_FIELDS, "prev_hash", "hash"])
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == first
    with pytest.raises(CommandError, match=f"第{first}条"):
        verify_command()


@pytest.mark.django_db
def test_it_detects_two_adjacent_entries_whose_contents_were_swapped(chain):
    """第二十条: swapping what two neighbouring entries say, leaving the hash columns, is caught too."""
    first, second = chain[4], chain[5]
    swap(first, second, CONTENT_FIELDS)
    problem = verify_chain()
    assert problem is not None
    assert problem.entry_id == first
    assert "哈希不符" in problem.message


@pytest.mark.django_db
def test_it_names_the_first_bad_entry_when_several_are_broken(chain):
    early, late = chain[2], chain[-3]
    AuditEntry.objects.filter(pk=late).update(action="x")
    AuditEntry.objects.filter(pk=early).update(action="y")
    assert verify_chain().entry_id == early


@pytest.mark.django_db
def test_the_verify_command_exits_non_zero_on_a_broken_chain(chain, capsys, monkeypatch):
    """第二十条: `peixun verify_audit` exits with a non-zero status and names the first bad entry."""
    # run_from_argv closes every connection when done, which would end the test's transaction
    monkeypatch.setattr(connections, "close_all", lambda: None)
    execute_from_command_line(["peixun", "verify_audit"])
    assert "审计链完整" in capsys.readouterr().out

    middle = chain[len(chain) // 2]
    AuditEntry.objects.filter(pk=middle).update(object_repr="改过的对象")
    with pytest.raises(SystemExit) as exc:
        execute_from_command_line(["peixun", "verify_audit"])
    assert exc.value.code != 0
    err = capsys.readouterr().err
    assert "审计链校验失败" in err
    assert f"第{middle}条" in err


# --- recording ----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_refuses_to_record_outside_the_transaction_of_the_change():
    """第二十条: an entry must commit or roll back with the change it records."""
    with pytest.raises(RuntimeError, match="transaction"):
        audit_record(actor=None, action="test.outside", object_repr="x")
    assert not AuditEntry.objects.exists()
    with transaction.atomic():
        audit_record(actor=None, action="test.inside", object_repr="x")
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["test.inside"]
    assert verify_chain() is None


@pytest.mark.django_db
def test_an_entry_rolled_back_with_its_change_leaves_the_chain_intact(chain):
    count = AuditEntry.objects.count()
    with pytest.raises(ValueError), transaction.atomic():
        audit_record(actor=None, action="test.rolled_back", object_repr="x")
        raise ValueError("the change failed")
    assert AuditEntry.objects.count() == count
    assert verify_chain() is None
    rule_settings_change(actor=None, reason="回滚后再改", lesson_min_coverage=Decimal("0.85"))
    assert verify_chain() is None


@pytest.mark.django_db
def test_the_system_is_named_when_there_is_no_actor(reference_data):
    with transaction.atomic():
        entry = audit_record(actor=None, action="test.system", object_repr="x")
    assert entry.actor is None
    assert entry.actor_name == "系统"


@pytest.mark.django_db
def test_it_stores_decimals_dates_and_sets_as_json_text(reference_data):
    with transaction.atomic():
        entry = audit_record(
            actor=None,
            action="test.values",
            before={"share": Decimal("0.95"), "day": dt.date(2026, 9, 28), "ratio": 0.1},
            after={"codes": {"150102"}, "n": 3, "ok": True, "none": None},
        )
    entry.refresh_from_db()
    assert entry.before == {"share": "0.95", "day": "2026-09-28", "ratio": "0.1"}
    assert entry.after == {"codes": ["150102"], "n": 3, "ok": True, "none": None}
    assert verify_chain() is None


# --- rule settings: versions, never edits ------------------------------------------------------


@pytest.mark.django_db
def test_a_settings_change_creates_a_new_version_and_keeps_the_old(world):
    """rules.md "Settings and defaults": every number is a setting; a change is a new version, recorded
    in the audit log, so a finding can name the version that produced it. 第九条: 5 working days."""
    v1 = current_rule_settings()
    assert v1.version == 1
    assert v1.opening_review_workdays == 5

    v2 = rule_settings_change(actor=world.region_admin, reason=" 按新文件调整 ", opening_review_workdays=7)

    assert v2.version == 2
    assert v2.opening_review_workdays == 7
    assert v2.reason == "按新文件调整"
    assert v2.created_by == world.region_admin
    assert v2.completion_review_workdays == v1.completion_review_workdays == 3
    assert v2.exam_min_attendance_share == Decimal("0.95")
    assert current_rule_settings().pk == v2.pk
    old = RuleSettings.objects.get(version=1)
    assert old.opening_review_workdays == 5
    assert RuleSettings.objects.count() == 2

    entry = AuditEntry.objects.filter(action="rule_settings.changed").get()
    assert entry.actor == world.region_admin
    assert entry.object_repr == "规则参数 v2"
    assert entry.before["opening_review_workdays"] == 5
    assert entry.after["opening_review_workdays"] == 7
    assert entry.after["reason"] == "按新文件调整"
    assert verify_chain() is None


@pytest.mark.django_db
def test_a_second_change_builds_on_the_latest_version(world):
    rule_settings_change(actor=world.region_admin, reason="一", opening_review_workdays=7)
    v3 = rule_settings_change(actor=world.region_admin, reason="二", online_max_share=Decimal("0.30"))
    assert v3.version == 3
    assert v3.opening_review_workdays == 7
    assert v3.online_max_share == Decimal("0.30")
    assert list(RuleSettings.objects.order_by("version").values_list("online_max_share", flat=True)) == [
        Decimal("0.40"),
        Decimal("0.40"),
        Decimal("0.30"),
    ]


@pytest.mark.django_db
def test_it_refuses_unknown_settings(world):
    entries = AuditEntry.objects.count()
    with pytest.raises(PeixunError) as exc:
        rule_settings_change(actor=world.region_admin, reason="试试", max_trainees=50, version=9)
    assert "未知的规则参数" in exc.value.message
    assert "max_trainees" in exc.value.message
    assert "version" in exc.value.message
    assert RuleSettings.objects.count() == 1
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
@pytest.mark.parametrize(
    "values", [{}, {"opening_review_workdays": 5}, {"online_max_share": Decimal("0.40")}]
)
def test_it_refuses_a_change_that_changes_nothing(world, values):
    entries = AuditEntry.objects.count()
    with pytest.raises(PeixunError, match="参数没有变化"):
        rule_settings_change(actor=world.region_admin, reason="没变", **values)
    assert RuleSettings.objects.count() == 1
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
@pytest.mark.parametrize("reason", ["", "   "])
def test_it_refuses_a_change_without_a_reason(world, reason):
    entries = AuditEntry.objects.count()
    with pytest.raises(PeixunError, match="请填写修改原因"):
        rule_settings_change(actor=world.region_admin, reason=reason, opening_review_workdays=7)
    assert RuleSettings.objects.count() == 1
    assert AuditEntry.objects.count() == entries


# --- no raw ID number in the log ----------------------------------------------------------------


@pytest.mark.django_db
def test_the_audit_entries_for_a_person_never_contain_the_raw_id_number(world):
    """个人信息保护法: the log shows the masked number only, though it is append-only and kept forever."""
    first17 = next(
        f"15010219880309{seq:03d}" for seq in range(1000) if id_check_char(f"15010219880309{seq:03d}") == "X"
    )
    number = first17 + "X"
    person, _ = person_register(
        id_number=number.lower(),
        name="乌云其其格",
        actor=world.inst_a_operator,
        organisation=world.inst_a,
        phone="13847190000",
    )
    entries = list(AuditEntry.objects.filter(object_id=str(person.public_id)).order_by("id"))
    assert [e.action for e in entries] == ["person.created", "person.affiliated"]
    created = entries[0]
    assert created.after["id_number"] == mask_id_number(number)
    assert created.after["phone"] == "138****0000"
    assert mask_id_number(number) in created.object_repr
    for entry in entries:
        text = " ".join(str(getattr(entry, f)) for f in [*CONTENT_FIELDS, "prev_hash", "hash"])
        for form in (number, number.lower(), first17):
            assert form not in text
    assert person.reveal_id_number() == number
