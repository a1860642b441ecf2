"""Source layouts: the files the sample writes, the column names of each export (these are the
users' names, not ours) and the sources map that reads them."""

from __future__ import annotations

from datetime import date

from ._common import check_locale, end_dates
from .parameters import CHANNEL_LABELS, CHANNELS
from .prospects import AGE_LABELS, GENDER_LABELS, INCOME_LABELS, LIST_CHANNELS

CRM_COLUMNS = {  # model column -> CSV header (both locales)
    "customer_id": "member_id", "name": "full_name", "gender": "gender", "birth_date": "birthday",
    "id_number": "id_card_no", "phone": "mobile", "email": "email", "province": "province",
    "city": "city", "address": "address", "signup_date": "register_date",
    "signup_channel": "register_channel", "consent_mail": "opt_in_mail", "consent_sms": "opt_in_sms",
    "consent_email": "opt_in_email", "consent_phone": "opt_in_phone",
}
CRM_EXTRA = "member_level"  # an unmapped column, as real exports have
POS_COLUMNS = {
    "zh_CN": {"customer_id": "会员号", "name": "姓名", "gender": "性别", "birth_date": "出生日期",
              "id_number": "身份证号", "phone": "手机号", "email": "电子邮箱", "province": "省份",
              "city": "城市", "address": "地址", "signup_date": "入会日期", "consent_sms": "短信通知",
              "consent_phone": "电话回访"},
    "en_US": {"customer_id": "MEMBER_NO", "name": "CUST_NAME", "gender": "SEX", "birth_date": "DOB",
              "id_number": "ID_NO", "phone": "PHONE", "email": "EMAIL", "province": "STATE",
              "city": "CITY", "address": "ADDRESS", "signup_date": "JOIN_DATE", "consent_sms": "SMS_OK",
              "consent_phone": "CALL_OK"},
}
POS_EXTRA = {"zh_CN": "入会门店", "en_US": "HOME_STORE"}
DIST_COLUMNS = {
    "zh_CN": {"customer_id": "经销商编号", "name": "经销商名称", "phone": "联系电话", "email": "电子邮箱",
              "province": "省份", "city": "城市", "address": "地址", "signup_date": "签约日期"},
    "en_US": {"customer_id": "Account No", "name": "Company", "phone": "Phone", "email": "Email",
              "province": "State", "city": "City", "address": "Address", "signup_date": "Contract Date"},
}
DIST_EXTRA = {"zh_CN": "联系人", "en_US": "Contact"}
DIST_SHEET = {"zh_CN": "经销商", "en_US": "Distributors"}
PRODUCT_COLUMNS = {"product_id": "sku", "product_name": "product_name", "category": "category",
                   "price": "list_price", "unit_cost": "unit_cost"}
ORDER_COLUMNS = {"order_id": "order_no", "customer_id": "member_no", "order_date": "order_date",
                 "channel": "channel_code", "order_type": "doc_type", "status": "doc_status",
                 "original_order_id": "ref_order_no", "city": "store_city"}
LINE_COLUMNS = {"order_id": "order_no", "line_no": "line_no", "product_id": "sku", "quantity": "qty",
                "unit_price": "unit_price", "amount": "line_amount"}
SUPPRESSION_COLUMNS = {"customer_id": "member_no", "phone": "mobile", "email": "email", "channel": "channel",
                       "reason": "reason", "added_date": "added_on"}
SUPPRESSION_REASONS = {
    "complaint": {"zh_CN": "投诉后要求不再联系", "en_US": "asked not to be contacted after a complaint"},
    "unsubscribe": {"zh_CN": "退订邮件", "en_US": "unsubscribed from e-mail"},
    "registry": {"zh_CN": "拒接营销电话登记", "en_US": "national do-not-call registry"},
}
# The e-mail test export (the layout of Kevin Hillstrom's MineThatData e-mail test, 2008):
# one row per customer, the arm in "segment", outcomes visit / conversion / spend.
EMAIL_ARMS = ("Mens E-Mail", "Womens E-Mail", "No E-Mail")
EMAIL_HISTORY_SEGMENTS = ((0, 100, "1) $0 - $100"), (100, 200, "2) $100 - $200"), (200, 350, "3) $200 - $350"),
                          (350, 500, "4) $350 - $500"), (500, 750, "5) $500 - $750"),
                          (750, 1000, "6) $750 - $1,000"), (1000, float("inf"), "7) $1,000 +"))
CAMPAIGN_COLUMNS = {"campaign_id": "campaign_code", "campaign_name": "campaign_name", "channel": "channel",
                    "start_date": "start_date", "end_date": "end_date",
                    "response_window_days": "response_days", "cost_per_contact": "cost_per_contact",
                    "offer": "offer"}
CONTACT_COLUMNS = {"campaign_id": "campaign_code", "customer_id": "member_no", "cell": "group",
                   "contact_date": "contact_date"}
TICKET_COLUMNS = {"ticket_id": "ticket_no", "customer_id": "member_no", "opened_date": "created_date",
                  "closed_date": "closed_date", "ticket_type": "category", "satisfaction": "csat", "resolved": "resolved"}
CITY_COLUMNS = {
    "zh_CN": {"city": "城市", "city_en": "英文名", "province": "省份", "city_tier": "城市等级",
              "population_m": "常住人口_百万", "income_index": "收入指数"},
    "en_US": {"city": "city", "city_en": "city_en", "province": "state", "city_tier": "tier",
              "population_m": "population_m", "income_index": "income_index"},
}
ORDER_CHANNEL_CODES = {"store": "POS", "online": "WEB", "phone": "TEL", "distributor": "B2B"}
ORDER_TYPE_CODES = {"sale": "SALE", "return": "RETURN"}
ORDER_STATUS_CODES = {"completed": "DONE", "cancelled": "CANCELLED"}
TICKET_TYPES = {"zh_CN": {"complaint": "投诉", "inquiry": "咨询", "return": "退货"},
                "en_US": {"complaint": "Complaint", "inquiry": "Inquiry", "return": "Return"}}
CRM_SIGNUP_CHANNELS = {"web": "online", "app": "app", "wechat": "wechat", "store": "store"}
# A rented prospect list (sample/prospects.py) in the vendor's layout, and the past acquisition
# mailing to it as the campaign tool exports it.
PROSPECT_COLUMNS = {
    "zh_CN": {"list_id": "名单编号", "list_name": "名单来源", "name": "姓名", "phone": "手机号", "email": "电子邮箱",
              "province": "省份", "city": "城市", "age_band": "年龄段", "gender": "性别", "income_band": "月收入",
              "channel": "可联系渠道", "consent_mail": "直邮许可", "consent_sms": "短信许可", "consent_email": "邮件许可",
              "consent_phone": "电话许可", "acquired_date": "获取日期"},
    "en_US": {"list_id": "Record ID", "list_name": "Source List", "name": "Full Name", "phone": "Mobile",
              "email": "Email", "province": "State", "city": "City", "age_band": "Age Range", "gender": "Gender",
              "income_band": "Monthly Income", "channel": "Contact Channel", "consent_mail": "Mail OK",
              "consent_sms": "SMS OK", "consent_email": "Email OK", "consent_phone": "Phone OK",
              "acquired_date": "Acquired"},
}
PROSPECT_DATE_FORMAT = {"zh_CN": "%Y/%m/%d", "en_US": "%m/%d/%Y"}
ACQUISITION_COLUMNS = {"campaign_id": "campaign_code", "list_id": "list_ref", "cell": "group",
                       "contact_date": "contact_date", "channel": "channel", "cost_per_contact": "cost_per_contact",
                       "response_window_days": "response_days", "responded": "converted",
                       "first_order_amount": "first_order_amount"}

FILES = {
    "crm_customers": "crm_customers.csv", "pos_members": "pos_members.csv",
    "distributors": "distributors.xlsx", "crm_customers_update": "crm_customers_update.csv",
    "products": "products.csv", "orders": "orders.csv", "order_lines": "order_lines.csv",
    "campaigns": "campaigns.csv", "contacts": "contacts.csv",
    "trigger_campaigns": "trigger_campaigns.csv", "trigger_contacts": "trigger_contacts.csv",
    "service_tickets": "service_tickets.parquet", "cities": "cities.csv",
    "do_not_contact": "do_not_contact.csv", "email_test": "email_test.csv",
    "prospect_list": "prospect_list.csv", "acquisition_contacts": "acquisition_contacts.csv",
}


def sources_config(locale: str = "zh_CN", end_date: str | date = "2026-10-31",
                   base_dir: str = "data/raw") -> dict:
    """The sources map (the ``params/sources/*.yaml`` format) for the files :func:`generate` writes.

    ``params/sources/sample.yaml`` is this map for the defaults; a test keeps the two equal.
    """
    check_locale(locale)
    zh = locale == "zh_CN"
    _, end, export = end_dates(end_date, 1)

    def source(name, table, fmt, columns, encoding="auto", sheet=None, effective_date=None,
               date_formats=None, values=None, constants=None, extracted=end) -> dict:
        d = {"name": name, "path": FILES[name], "table": table, "format": fmt, "extracted": extracted}
        for key, v in (("encoding", encoding), ("sheet", sheet), ("effective_date", effective_date),
                       ("columns", columns), ("date_formats", date_formats), ("values", values),
                       ("constants", constants)):
            if v is not None:
                d[key] = v
        return d

    def crm(name, effective_date):
        return source(name, "customers", "csv", dict(CRM_COLUMNS), effective_date=effective_date, extracted=effective_date,
                      values={"gender": {"male": "M", "female": "F"}, "signup_channel": dict(CRM_SIGNUP_CHANNELS)},
                      constants={"customer_type": "consumer", "source_system": "crm"})

    sources = [
        crm("crm_customers", export),
        source("pos_members", "customers", "csv", dict(POS_COLUMNS[locale]), effective_date=end,
               date_formats={"birth_date": "%Y%m%d", "signup_date": "%Y/%m/%d"} if zh
               else {"birth_date": "%m/%d/%Y", "signup_date": "%m/%d/%Y"},
               values={"gender": {"男": "M", "女": "F"}} if zh else None,
               constants={"customer_type": "consumer", "signup_channel": "store", "source_system": "pos"}),
        source("distributors", "customers", "excel", dict(DIST_COLUMNS[locale]), encoding=None,
               sheet=DIST_SHEET[locale], effective_date=end,
               constants={"customer_type": "distributor", "signup_channel": "distributor",
                          "source_system": "distributor"}),
        crm("crm_customers_update", end),
        source("products", "products", "csv", dict(PRODUCT_COLUMNS)),
        source("orders", "orders", "csv", dict(ORDER_COLUMNS),
               values={"channel": {v: k for k, v in ORDER_CHANNEL_CODES.items()},
                       "order_type": {v: k for k, v in ORDER_TYPE_CODES.items()},
                       "status": {v: k for k, v in ORDER_STATUS_CODES.items()}}),
        source("order_lines", "order_lines", "csv", dict(LINE_COLUMNS)),
        source("campaigns", "campaigns", "csv", dict(CAMPAIGN_COLUMNS),
               values={"channel": {CHANNEL_LABELS[locale][c]: c for c in CHANNELS}}),
        source("contacts", "contacts", "csv", dict(CONTACT_COLUMNS), values={"cell": {"T": "test", "C": "control"}}),
        source("trigger_campaigns", "campaigns", "csv", dict(CAMPAIGN_COLUMNS),
               values={"channel": {CHANNEL_LABELS[locale][c]: c for c in CHANNELS}}),
        source("trigger_contacts", "contacts", "csv", dict(CONTACT_COLUMNS),
               values={"cell": {"T": "test", "C": "control"}}),
        source("service_tickets", "service_tickets", "parquet", dict(TICKET_COLUMNS), encoding=None,
               values={"ticket_type": {v: k for k, v in TICKET_TYPES[locale].items()}}),
        source("cities", "cities", "csv", dict(CITY_COLUMNS[locale])),
        source("do_not_contact", "suppressions", "csv", dict(SUPPRESSION_COLUMNS),
               values={"channel": {CHANNEL_LABELS[locale][c]: c for c in CHANNELS}}),
        source("prospect_list", "prospect_list", "csv", dict(PROSPECT_COLUMNS[locale]),
               date_formats={"acquired_date": PROSPECT_DATE_FORMAT[locale]},
               values={"age_band": {v: k for k, v in AGE_LABELS[locale].items()},
                       "income_band": {v: k for k, v in INCOME_LABELS[locale].items()},
                       "gender": {v: k for k, v in GENDER_LABELS[locale].items()},
                       "channel": {CHANNEL_LABELS[locale][c]: c for c in LIST_CHANNELS}}),
        source("acquisition_contacts", "acquisition_contacts", "csv", dict(ACQUISITION_COLUMNS),
               values={"cell": {"T": "test", "C": "control"},
                       "channel": {CHANNEL_LABELS[locale][c]: c for c in CHANNELS}}),
    ]
    return {"base_dir": str(base_dir), "sources": sources}

