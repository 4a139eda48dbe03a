"""居民身份证号 (GB 11643-1999) and 统一社会信用代码 (GB 32100-2015): validation, masking, encryption at
rest, and the promise that the raw ID number is stored nowhere (rules.md, "Identity")."""

import base64
import datetime as dt
import hashlib

import pytest
from cryptography.exceptions import InvalidTag
from django.db import connection
from django.test import override_settings
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from peixun.accounts.models import PersonAffiliation
from peixun.accounts.services import person_register
from peixun.core.errors import InvalidIdNumber, PeixunError
from peixun.core.identity import (
    decrypt_id_number,
    encrypt_id_number,
    id_check_char,
    id_lookup_hash,
    mask_id_number,
    mask_name,
    mask_phone,
    parse_id_number,
)
from peixun.core.models import AuditEntry, Person
from peixun.core.services import person_find, person_update
from peixun.core.uscc import uscc_problem

# --- an independent implementation of both standards, straight from rules.md ------------------

GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
GB11643_CHECK = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"]
GB32100_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def reference_id_check(first17: str) -> str:
    return GB11643_CHECK[sum(int(c) * w for c, w in zip(first17, GB11643_WEIGHTS, strict=True)) % 11]


def valid_id(area: str = "150102", birth: str = "19880309", seq: str = "123") -> str:
    first17 = area + birth + seq
    return first17 + reference_id_check(first17)


def id_ending_in_x(area: str = "150102", birth: str = "19880309") -> str:
    for seq in range(1000):
        number = valid_id(area, birth, f"{seq:03d}")
        if number.endswith("X"):
            return number
    raise AssertionError("no sequence number gives check character X")


def with_wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def reference_uscc_check(first17: str) -> str:
    check = 31 - sum(GB32100_CHARS.index(c) * w for c, w in zip(first17, GB32100_WEIGHTS, strict=True)) % 31
    return GB32100_CHARS[0 if check == 31 else check]


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


# --- 居民身份证号: valid numbers ----------------------------------------------------------------


def test_it_accepts_the_gb11643_example_numbers():
    """GB 11643-1999's own worked example (check character X) parses, with birth date and sex."""
    parsed = parse_id_number("11010519491231002X")
    assert parsed.value == "11010519491231002X"
    assert parsed.area_code == "110105"
    assert parsed.birth_date == dt.date(1949, 12, 31)
    assert parsed.sex == "F"
    assert id_check_char("44052418800101001") == "4"
    assert id_check_char("11010519491231002") == "X"


def test_it_accepts_a_valid_inner_mongolian_number():
    number = valid_id("150102", "19880309", "123")
    parsed = parse_id_number(number)
    assert parsed.value == number
    assert parsed.area_code == "150102"
    assert parsed.birth_date == dt.date(1988, 3, 9)
    assert parsed.masked == "150102********" + number[14:]


def test_it_normalises_lowercase_x_to_uppercase():
    number = id_ending_in_x()
    parsed = parse_id_number(number.lower())
    assert parsed.value == number
    assert parsed.value.endswith("X")


def test_it_strips_surrounding_whitespace():
    number = valid_id()
    assert parse_id_number(f"  {number}\n").value == number


@pytest.mark.parametrize(
    "area",
    [
        "152100",  # 呼伦贝尔盟, abolished 2001
        "152600",  # 乌兰察布盟, abolished 2003
        "152800",  # 巴彦淖尔盟, abolished 2003
        "152700",  # 伊克昭盟, abolished 2001
        "152300",  # 哲里木盟, abolished 1999
    ],
)
def test_it_accepts_historic_area_codes(area):
    """rules.md Identity: people keep the number they were issued; an old 盟 code is no error."""
    number = valid_id(area, "19750618", "001")
    parsed = parse_id_number(number)
    assert parsed.area_code == area
    assert parsed.birth_date == dt.date(1975, 6, 18)


@pytest.mark.parametrize(
    ("seq", "sex"),
    [("001", "M"), ("003", "M"), ("129", "M"), ("990", "F"), ("002", "F"), ("128", "F"), ("000", "F")],
)
def test_it_takes_sex_from_the_parity_of_the_sequence_number(seq, sex):
    """GB 11643: the sequence number is odd for men and even for women."""
    assert parse_id_number(valid_id(seq=seq)).sex == sex


def test_it_accepts_a_leap_day_birth_date():
    assert parse_id_number(valid_id(birth="20000229")).birth_date == dt.date(2000, 2, 29)


def test_it_accepts_a_birth_date_of_today_but_not_tomorrow():
    today = dt.date(2024, 6, 1)
    assert parse_id_number(valid_id(birth="20240601"), today=today).birth_date == today
    with pytest.raises(InvalidIdNumber, match="出生日期"):
        parse_id_number(valid_id(birth="20240602"), today=today)


# --- 居民身份证号: rejections -------------------------------------------------------------------


def test_it_rejects_a_wrong_check_character_with_a_clear_message():
    """rules.md Identity: an invalid checksum is rejected at entry with a clear message."""
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(with_wrong_check(valid_id()))
    assert "校验位" in exc.value.message


def test_it_rejects_a_transposition_of_two_digits():
    number = valid_id("150102", "19880309", "123")
    swapped = number[:14] + number[15] + number[14] + number[16:]
    assert swapped != number
    with pytest.raises(InvalidIdNumber, match="校验位"):
        parse_id_number(swapped)


@pytest.mark.parametrize(
    "birth",
    [
        "19900230",  # 2月30日
        "19900231",
        "19900431",  # 4月31日
        "19901301",  # 13月
        "19900001",  # 0月
        "19900100",  # 0日
        "20230229",  # not a leap year
        "19000229",  # 1900 was not a leap year
    ],
)
def test_it_rejects_impossible_birth_dates(birth):
    """rules.md Identity: an impossible birth date is rejected at entry, even with a right check character."""
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(valid_id(birth=birth))
    assert "出生日期" in exc.value.message
    assert birth in exc.value.message


@pytest.mark.parametrize("birth", ["18991231", "18800101"])
def test_it_rejects_birth_dates_before_1900(birth):
    with pytest.raises(InvalidIdNumber, match="不合理"):
        parse_id_number(valid_id(birth=birth))


def test_it_rejects_a_birth_date_in_the_future():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    with pytest.raises(InvalidIdNumber, match="不合理"):
        parse_id_number(valid_id(birth=f"{tomorrow:%Y%m%d}"))
    with pytest.raises(InvalidIdNumber, match="不合理"):
        parse_id_number(valid_id(birth="20990101"))


@pytest.mark.parametrize(
    ("raw", "length"),
    [
        ("", 0),
        ("15010219880309123", 17),
        ("1501021988030912311", 19),
        ("150102880309123", 15),  # old 15-digit numbers are not accepted
    ],
)
def test_it_rejects_a_wrong_length_and_says_how_long_it_was(raw, length):
    with pytest.raises(InvalidIdNumber) as exc:
        parse_id_number(raw)
    assert "18位" in exc.value.message
    assert f"{length}位" in exc.value.message


def test_it_rejects_none_as_a_zero_length_number():
    with pytest.raises(InvalidIdNumber, match="0位"):
        parse_id_number(None)


@pytest.mark.parametrize(
    "raw",
    [
        "15010219880309X234",  # X in the middle
        "1501021988030912A4",  # a letter
        "150102 1988030912X",  # a space inside
        "150102-19880309123",  # a hyphen
        "15010219880309123Y",  # a check letter other than X
    ],
)
def test_it_rejects_wrong_characters(raw):
    assert len(raw) == 18
    with pytest.raises(InvalidIdNumber, match="前17位应为数字"):
        parse_id_number(raw)


@pytest.mark.parametrize("number", [valid_id(), id_ending_in_x()])
def test_it_rejects_full_width_digits(number):
    """Full-width (全角) digits are not the same number to the lookup hash: accepting them would let one
    person be registered twice under two spellings of one number."""
    full_width = number.translate(FULL_WIDTH)
    assert full_width != number
    with pytest.raises(InvalidIdNumber):
        parse_id_number(full_width)
    # the X stays ASCII: only the 17 digits are full-width
    with pytest.raises(InvalidIdNumber):
        parse_id_number(number[:17].translate(FULL_WIDTH) + number[17])


@pytest.mark.parametrize("area", ["000000", "001234"])
def test_it_rejects_an_area_code_starting_with_00(area):
    with pytest.raises(InvalidIdNumber, match="地区码"):
        parse_id_number(valid_id(area=area))


# --- hypothesis ----------------------------------------------------------------------------------

area_codes = st.integers(min_value=10000, max_value=999999).map(lambda n: f"{n:06d}")
birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date.today())
sequences = st.integers(min_value=0, max_value=999).map(lambda n: f"{n:03d}")


@given(area=area_codes, birth=birth_dates, seq=sequences)
@example(area="152100", birth=dt.date(1975, 6, 18), seq="001")
@example(area="150102", birth=dt.date(1900, 1, 1), seq="000")
def test_any_17_digits_with_a_valid_birth_date_and_the_computed_check_character_parse(area, birth, seq):
    """GB 11643: the check character is the weighted sum mod 11 mapped onto 1 0 X 9 8 7 6 5 4 3 2."""
    first17 = f"{area}{birth:%Y%m%d}{seq}"
    assert id_check_char(first17) == reference_id_check(first17)
    number = first17 + reference_id_check(first17)
    parsed = parse_id_number(number)
    assert parsed.value == number
    assert parsed.area_code == area
    assert parsed.birth_date == birth
    assert parsed.sex == ("M" if int(seq) % 2 else "F")
    assert parse_id_number(number.lower()).value == number


@given(area=area_codes, birth=birth_dates, seq=sequences, wrong=st.sampled_from("0123456789X"))
def test_changing_the_check_character_makes_any_valid_number_fail(area, birth, seq, wrong):
    first17 = f"{area}{birth:%Y%m%d}{seq}"
    right = reference_id_check(first17)
    if wrong == right:
        wrong = GB11643_CHECK[(GB11643_CHECK.index(right) + 1) % 11]
    with pytest.raises(InvalidIdNumber, match="校验位"):
        parse_id_number(first17 + wrong)


@given(
    number=st.builds(lambda a, b, s: valid_id(a, f"{b:%Y%m%d}", s), area_codes, birth_dates, sequences),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_changing_any_single_digit_of_a_valid_number_makes_it_fail(number, position, delta):
    """A single mistyped digit is always caught (by the check character or, first, the birth date)."""
    changed = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    with pytest.raises(InvalidIdNumber):
        parse_id_number(changed)


# --- masking (公示, 181号 第二十八条) -------------------------------------------------------------


def test_it_masks_an_id_number_as_area_code_and_last_four():
    """财社〔2023〕181号 第二十八条: the 公示 list shows 150102********1234."""
    assert mask_id_number("150102198803091234") == "150102********1234"
    assert mask_id_number("15010219880309001X") == "150102********001X"


@pytest.mark.parametrize("raw", ["", "1501021988", "1501021988030912345"])
def test_it_masks_a_malformed_id_number_completely(raw):
    assert mask_id_number(raw) == "*" * len(raw)


@given(area=area_codes, birth=birth_dates, seq=sequences)
def test_a_masked_id_number_never_shows_the_birth_date(area, birth, seq):
    number = valid_id(area, f"{birth:%Y%m%d}", seq)
    masked = parse_id_number(number).masked
    assert len(masked) == 18
    assert masked[:6] == area
    assert masked[6:14] == "*" * 8
    assert masked[14:] == number[14:]


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("李明", "李*"),
        ("欧阳娜娜", "欧**娜"),
        ("巴特尔", "巴*尔"),
        ("额尔敦巴雅尔", "额****尔"),
        ("王", "王"),
        ("", ""),
    ],
)
def test_it_masks_names_keeping_the_surname_and_last_character(name, masked):
    """财社〔2023〕181号 第二十八条: the 公示 list shows the name masked (张*明)."""
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13947112345", "139****2345"),
        ("15904718888", "159****8888"),
        ("047112345678", "047*****5678"),
        ("123456", "******"),
        ("", ""),
        (None, ""),
    ],
)
def test_it_masks_phone_numbers_keeping_the_first_three_and_last_four(phone, masked):
    assert mask_phone(phone) == masked


@given(phone=st.text(alphabet="0123456789", min_size=1, max_size=20))
@example(phone="4712345")
def test_a_masked_phone_number_never_equals_the_phone_number(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    assert masked != phone
    assert "*" in masked


# --- 统一社会信用代码 (GB 32100-2015) --------------------------------------------------------------


def test_it_accepts_a_well_formed_uscc_with_a_right_check_character():
    assert reference_uscc_check("91350100M000100Y4") == "3"
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_problem("91350100m000100y43") is None
    assert uscc_problem(" 91350100M000100Y43 ") is None


def test_it_maps_a_check_value_of_31_to_zero():
    """GB 32100: 31 − (sum mod 31), and 31 becomes 0."""
    assert uscc_problem("000000000000000000") is None
    assert uscc_problem("00000000000000000Y") is not None


def test_it_warns_but_does_not_reject_a_uscc_with_a_wrong_check_character():
    """rules.md Identity: a failed check is a warning, not a rejection (some real codes fail)."""
    problem = uscc_problem("91350100M000100Y44")
    assert isinstance(problem, str)
    assert "校验位" in problem
    assert "仅提示" in problem


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_it_refuses_the_forbidden_letters_in_a_uscc(letter):
    """GB 32100: I O Z S V are never used (they look like 1 0 2 5 U)."""
    code = "91350100" + letter + "000100Y43"
    problem = uscc_problem(code)
    assert problem is not None
    assert "不允许的字符" in problem
    assert letter in problem
    assert uscc_problem(code.lower()) == problem


@pytest.mark.parametrize(("raw", "length"), [("", 0), (None, 0), ("91350100M000100Y4", 17)])
def test_it_reports_a_uscc_of_the_wrong_length(raw, length):
    problem = uscc_problem(raw)
    assert problem is not None
    assert "18位" in problem
    assert f"{length}位" in problem


uscc_bodies = st.text(alphabet=GB32100_CHARS, min_size=17, max_size=17)


@given(body=uscc_bodies)
def test_any_uscc_with_the_computed_check_character_passes(body):
    assert uscc_problem(body + reference_uscc_check(body)) is None


@given(body=uscc_bodies, wrong=st.sampled_from(GB32100_CHARS))
def test_any_uscc_with_another_check_character_gets_a_warning(body, wrong):
    right = reference_uscc_check(body)
    if wrong == right:
        wrong = GB32100_CHARS[(GB32100_CHARS.index(right) + 1) % 31]
    problem = uscc_problem(body + wrong)
    assert problem is not None
    assert "校验位" in problem


# --- encryption at rest and the lookup hash ---------------------------------------------------


def test_it_decrypts_what_it_encrypts():
    number = id_ending_in_x()
    assert decrypt_id_number(encrypt_id_number(number)) == number


def test_two_encryptions_of_the_same_number_differ():
    """A random nonce each time: equal numbers do not look equal in the database."""
    number = valid_id()
    first, second = encrypt_id_number(number), encrypt_id_number(number)
    assert first != second
    assert decrypt_id_number(first) == decrypt_id_number(second) == number


def test_the_ciphertext_does_not_contain_the_number():
    number = valid_id()
    token = encrypt_id_number(number)
    assert number not in token
    assert number.encode() not in base64.b64decode(token)


def test_it_refuses_to_decrypt_a_tampered_ciphertext():
    blob = bytearray(base64.b64decode(encrypt_id_number(valid_id())))
    blob[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        decrypt_id_number(base64.b64encode(bytes(blob)).decode())


def test_it_cannot_decrypt_with_another_key():
    token = encrypt_id_number(valid_id())
    other = base64.urlsafe_b64encode(b"another-identity-key-of-32-bytes").decode()
    with override_settings(PEIXUN_IDENTITY_KEY=other), pytest.raises(InvalidTag):
        decrypt_id_number(token)


def test_the_lookup_hash_is_stable_and_distinguishes_numbers():
    number = valid_id(seq="123")
    other = valid_id(seq="125")
    assert id_lookup_hash(number) == id_lookup_hash(number)
    assert len(id_lookup_hash(number)) == 64
    assert id_lookup_hash(number) != id_lookup_hash(other)


def test_the_lookup_hash_is_keyed_not_a_plain_hash():
    """Without the key, the 10^17-ish space of ID numbers could be enumerated against a plain SHA-256."""
    number = valid_id()
    assert id_lookup_hash(number) != hashlib.sha256(number.encode()).hexdigest()
    other = base64.urlsafe_b64encode(b"another-identity-key-of-32-bytes").decode()
    with override_settings(PEIXUN_IDENTITY_KEY=other):
        under_other_key = id_lookup_hash(number)
    assert under_other_key != id_lookup_hash(number)


@settings(max_examples=30)
@given(area=area_codes, birth=birth_dates, seq=sequences)
def test_encryption_round_trips_for_any_valid_number(area, birth, seq):
    number = valid_id(area, f"{birth:%Y%m%d}", seq)
    assert decrypt_id_number(encrypt_id_number(number)) == number


# --- the database never holds the raw number ---------------------------------------------------


def database_dump() -> list[tuple[str, str]]:
    """Every cell of every table, as (table, text)."""
    cells = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for row in cursor.fetchall():
                for value in row:
                    if value is None:
                        continue
                    if isinstance(value, memoryview):
                        value = value.tobytes()
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    cells.append((table, str(value)))
    return cells


def leaks(number: str) -> list[str]:
    forms = {number, number.lower(), number[:17]}
    return sorted({table for table, text in database_dump() if any(form in text for form in forms)})


@pytest.mark.django_db
def test_the_leak_scanner_finds_a_number_written_in_clear(world):
    """The scanner below is only worth something if it sees a planted number."""
    number = valid_id("150103", "19700101", "357")
    assert leaks(number) == []
    Person.objects.filter(pk=world.li_ming.pk).update(phone=number[:17])
    assert leaks(number) == [Person._meta.db_table]


@pytest.mark.django_db
def test_the_raw_id_number_is_stored_nowhere_in_the_database(world):
    """rules.md Identity / 个人信息保护法: only ciphertext, keyed hash and masked form are stored."""
    with_x = id_ending_in_x("150203", "19920714")
    historic = valid_id("152100", "19750618", "001")
    plain = valid_id("150602", "20010305", "246")
    people = [
        person_register(
            id_number=with_x.lower(),
            name="乌云其其格",
            actor=world.inst_a_operator,
            organisation=world.inst_a,
            phone="13847190000",
        )[0],
        person_register(id_number=historic, name="巴特尔", actor=world.xincheng_reviewer)[0],
        person_register(
            id_number=f" {plain} ", name="王小兰", actor=None, organisation=world.inst_b, kind="TEACHER"
        )[0],
    ]
    # a second registration by another institution, and an update, write more rows about them
    person_register(
        id_number=with_x, name="乌云其其格", actor=world.inst_b_operator, organisation=world.inst_b
    )
    person_update(person=people[2], actor=world.region_admin, phone="15004711234")
    with pytest.raises(PeixunError):
        person_register(
            id_number=plain, name="王晓兰", actor=world.inst_a_operator, organisation=world.inst_a
        )

    dump_text = "\n".join(text for _table, text in database_dump())
    for person, number in zip(people, [with_x, historic, plain], strict=True):
        person.refresh_from_db()
        assert person.reveal_id_number() == number
        assert person.id_masked == mask_id_number(number)
        assert person.id_masked in dump_text  # the scan does see the person table
        assert leaks(number) == [], number
    for person in (world.li_ming, world.chen_jing):
        number = person.reveal_id_number()
        assert len(number) == 18
        assert leaks(number) == [], number


@pytest.mark.django_db
def test_it_refuses_the_same_id_number_under_a_different_name(world):
    """第二十条: a person's identity is never silently overwritten; the refusal is in Chinese and
    shows the number masked."""
    number = world.li_ming.reveal_id_number()
    entries_before = AuditEntry.objects.count()
    with pytest.raises(PeixunError) as exc:
        person_register(id_number=number, name="李铭", actor=world.inst_b_operator, organisation=world.inst_b)
    message = exc.value.message
    assert "已登记为“李明”" in message
    assert "李铭" in message
    assert "不一致" in message
    assert mask_id_number(number) in message
    assert number not in message
    world.li_ming.refresh_from_db()
    assert world.li_ming.name == "李明"
    assert Person.objects.filter(name="李铭").count() == 0
    assert not PersonAffiliation.objects.filter(person=world.li_ming, organisation=world.inst_b).exists()
    assert AuditEntry.objects.count() == entries_before


@pytest.mark.django_db
def test_it_returns_the_same_person_for_the_same_id_number_and_name(world):
    number = world.li_ming.reveal_id_number()
    people_before = Person.objects.count()
    person, created = person_register(
        id_number=number, name=" 李明 ", actor=world.inst_b_operator, organisation=world.inst_b
    )
    assert created is False
    assert person.pk == world.li_ming.pk
    assert Person.objects.count() == people_before
    assert AuditEntry.objects.filter(action="person.created", object_id=str(person.public_id)).count() == 1
    # institution B may now see 李明
    assert PersonAffiliation.objects.filter(person=person, organisation=world.inst_b).exists()


@pytest.mark.django_db
def test_it_finds_a_person_whether_x_is_typed_in_upper_or_lower_case(reference_data):
    number = id_ending_in_x()
    person, created = person_register(id_number=number.lower(), name="张三明", actor=None)
    assert created is True
    again, created_again = person_register(id_number=number, name="张三明", actor=None)
    assert created_again is False
    assert again.pk == person.pk
    assert person_find(number.lower()).pk == person.pk
    assert person.reveal_id_number() == number


@pytest.mark.django_db
def test_it_registers_a_person_with_a_historic_area_code(reference_data):
    """rules.md Identity: 152100 呼伦贝尔盟 is an old code, still a valid number."""
    number = valid_id("152100", "19750618", "001")
    person, created = person_register(id_number=number, name="巴特尔", actor=None)
    assert created is True
    assert person.birth_date == dt.date(1975, 6, 18)
    assert person.sex == "M"
    assert person.id_masked == "152100********0013"


@pytest.mark.django_db
def test_it_takes_birth_date_sex_and_area_from_the_id_number(reference_data):
    number = valid_id("150103", "19951102", "246")
    person, _ = person_register(id_number=number, name="陈静", actor=None)
    assert person.birth_date == dt.date(1995, 11, 2)
    assert person.sex == "F"
    assert person.area.code == "150103"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bad", [with_wrong_check(valid_id()), valid_id(birth="19900230"), "15010219880309123"]
)
def test_it_rejects_an_invalid_id_number_before_anything_is_written(reference_data, bad):
    """rules.md: an invalid ID number never gets in; every entry path rejects it."""
    people, entries = Person.objects.count(), AuditEntry.objects.count()
    with pytest.raises(InvalidIdNumber):
        person_register(id_number=bad, name="张三明", actor=None)
    assert Person.objects.count() == people
    assert AuditEntry.objects.count() == entries


@pytest.mark.django_db
def test_it_rejects_an_empty_name(reference_data):
    with pytest.raises(PeixunError, match="姓名不能为空"):
        person_register(id_number=valid_id(), name="  ", actor=None)
    assert not Person.objects.exists()


@pytest.mark.django_db
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(area=area_codes, birth=birth_dates, seq=sequences)
def test_the_stored_person_reveals_exactly_the_registered_number(reference_data, area, birth, seq):
    number = valid_id(area, f"{birth:%Y%m%d}", seq)
    person, _ = person_register(id_number=number, name="测试人", actor=None)
    stored = Person.objects.get(pk=person.pk)
    assert stored.reveal_id_number() == number
    assert stored.id_hmac == id_lookup_hash(number)
    assert number not in stored.id_cipher


@given(st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=17, max_size=17))
def test_a_completed_uscc_always_passes_its_check(first17):
    """GB 32100-2015: the check character uscc_complete appends is the one uscc_problem expects."""
    from peixun.core.uscc import uscc_complete

    assert uscc_problem(uscc_complete(first17)) is None
