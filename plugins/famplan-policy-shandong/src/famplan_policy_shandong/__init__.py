"""famplan-policy-shandong: Shandong parameter values over the national floors."""

from famplan_policy_shandong.hooks import shandong_parameters

__all__ = ["shandong_parameters"]
