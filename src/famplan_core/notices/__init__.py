"""Public notices (公示, 阳光计生): open where they must be, private everywhere else.

Before a new beneficiary is paid, the township posts the list at township, village and
village-group level for a window (7 days by default), so that anyone can object:

* `NoticeService` drafts notices from a month's run (or its hardship grants), posts them,
  records objections and their decisions, and closes them; the lines of an open notice are
  held from the payment roll (`NoticeHolds`);
* the masking view (`mask_subjects`) publishes only what the field classes allow: names and
  citizen IDs masked by the deployment's `famplan_core.privacy.MaskingPolicy`, village,
  program and amount; nothing about children under 14;
* renderers (`NoticeRenderer`, registered through ``famplan_register_notice_renderers``)
  receive only the masked `PublishedNotice`: the core ships CSV (`CsvNoticeRenderer`), the
  ``famplan-notice-html`` plugin a printable board, a static site and a PDF.

Example:
    >>> from famplan_core.notices import date_zh
    >>> import datetime as dt
    >>> date_zh(dt.date(2026, 11, 2))
    '2026年11月2日'
"""

from famplan_core.notices.csv_renderer import NOTICE_CSV_COLUMNS, CsvNoticeRenderer, notice_csv
from famplan_core.notices.holds import NoticeHolds
from famplan_core.notices.masking import (
    mask_subjects,
    masking_label,
    masking_note,
    masking_policy,
    village_names,
)
from famplan_core.notices.model import (
    CHANNELS,
    LEVELS,
    STATES,
    SUBJECTS,
    Channel,
    Level,
    Notice,
    NoticeLine,
    NoticeRenderer,
    NoticeRow,
    NoticeSubject,
    Objection,
    PublishedNotice,
    State,
    Subject,
    WithheldRow,
    date_zh,
)
from famplan_core.notices.service import PLUGIN_SETTINGS, NoticeService

__all__ = [
    "CHANNELS",
    "LEVELS",
    "NOTICE_CSV_COLUMNS",
    "PLUGIN_SETTINGS",
    "STATES",
    "SUBJECTS",
    "Channel",
    "CsvNoticeRenderer",
    "Level",
    "Notice",
    "NoticeHolds",
    "NoticeLine",
    "NoticeRenderer",
    "NoticeRow",
    "NoticeService",
    "NoticeSubject",
    "Objection",
    "PublishedNotice",
    "State",
    "Subject",
    "WithheldRow",
    "date_zh",
    "mask_subjects",
    "masking_label",
    "masking_note",
    "masking_policy",
    "notice_csv",
    "village_names",
]
