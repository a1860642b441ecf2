"""The planted parameters: the purchase and spend processes, the target rates of features and
defects, and the campaign design."""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ["direct_mail", "sms", "email", "outbound_call"]


@dataclass(frozen=True)
class ProcessParams:
    """BG/NBD (r, alpha, a, b; weeks) and gamma-gamma (p, q, gamma; CNY) parameters."""

    r: float
    alpha: float
    a: float
    b: float
    p: float
    q: float
    gamma: float


CONSUMER_PARAMS = ProcessParams(r=0.55, alpha=9.0, a=0.9, b=4.0, p=5.0, q=3.5, gamma=140.0)
DISTRIBUTOR_PARAMS = ProcessParams(r=3.0, alpha=15.0, a=1.0, b=25.0, p=8.0, q=6.0, gamma=1000.0)

# Target rates of the planted features and defects (the rates actually planted are
# measured and written to truth.parameters and the summary).
RATES = {
    "distributor_share": 0.015,      # of people
    "crm_share": 0.62,               # of consumers whose first record is in the CRM
    "duplicate_share": 0.03,         # of people with a second record
    "duplicate_same_source": 0.5,    # of duplicates: second record in the same system
    "prospect_crm": 0.20,            # CRM members who never buy
    "prospect_pos": 0.06,            # POS members who never buy
    "legacy_id15_pos": 0.40,         # POS records of people born before 2000 with an ID
    "legacy_id15_crm": 0.02,         # CRM records of people born before 2000 with an ID
    "id_mismatch": 0.005,            # 18-digit IDs whose recorded birth date or gender disagree
    "id_bad_check": 0.003,           # 18-digit IDs with a wrong check digit
    "invalid_phone": 0.003,          # records with a 10-digit or wrong-prefix phone
    "email_typo": 0.005,             # e-mails with a domain typo
    "place_variant_crm": 0.03,       # CRM records with province/city spelled off-convention
    "place_variant_pos": 0.05,
    "anonymous_orders": 0.02,        # orders without customer number
    "cancelled_orders": 0.02,        # sales orders cancelled
    "returns": 0.05,                 # completed sales returned (full or partial)
    "future_dates": 0.001,           # orders dated after end_date
    "bad_price_lines": 0.002,        # lines with zero or negative price
    "repeated_lines": 0.005,         # lines repeated with the next line number
    "reject_orders": 0.0005,         # extra corrupt order rows the loader must reject
    "complaint_per_purchase": 0.03,
    "complaint_multiplier": 2.5,     # dropout probability multiplier after a complaint
    "crm_update": 0.03,              # CRM records changed in the later delta export
    "sleeping_dog_share": 0.03,      # of campaign-selected customers without a complaint
    "sleeping_dog_if_complained": 0.5,
    "sleeping_dog_suppression": 0.6,  # k: chance a contacted sleeping dog skips her window purchases
}

# The entries of RATES that are parameters of the behaviour model rather than defect rates.
MODEL_RATES = ("complaint_per_purchase", "complaint_multiplier", "sleeping_dog_share",
               "sleeping_dog_if_complained", "sleeping_dog_suppression")

CURRENCY_SCALE = {"zh_CN": 1.0, "en_US": 0.2}  # USD prices ~ CNY prices x 0.2

# Campaign design per channel: (share of eligible selected, days to contact everyone,
# response window days, cost per contact in CNY, logit intercept of the uplift q).
CAMPAIGN_DESIGN = {
    "direct_mail": (0.30, 3, 30, 3.5, -2.9),
    "sms": (0.40, 1, 14, 0.06, -3.3),
    "email": (0.40, 1, 14, 0.02, -3.6),
    "outbound_call": (0.12, 5, 21, 8.0, -2.3),
}
OFFERS = {
    "zh_CN": {"direct_mail": "会员专享满300减50券", "sms": "会员双倍积分周", "email": "新品9折优惠码",
              "outbound_call": "老客回馈礼包"},
    "en_US": {"direct_mail": "$10 off $60 member coupon", "sms": "Double points week",
              "email": "10% off new arrivals", "outbound_call": "Loyalty thank-you gift"},
}
CHANNEL_LABELS = {
    "zh_CN": {"direct_mail": "直邮", "sms": "短信", "email": "邮件", "outbound_call": "电话外呼"},
    "en_US": {"direct_mail": "Direct Mail", "sms": "SMS", "email": "E-mail", "outbound_call": "Outbound Call"},
}
