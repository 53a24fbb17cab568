"""famplan-exchange-province: the reference provincial exchange profile (CSV, GB18030)."""

from famplan_exchange_province.profile import PROFILE, ProvinceCsvFormat, TypeProfile

__all__ = ["PROFILE", "ProvinceCsvFormat", "TypeProfile"]
