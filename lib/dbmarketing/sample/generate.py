"""Sample data: a retailer's raw exports with a known, planted ground truth.

:func:`generate` writes the files a Chinese (or, with ``locale="en_US"``, an American)
retailer would hand over -- CRM and POS member lists, a distributor workbook, products,
orders and order lines, campaigns and contacts, service tickets and a bought city table --
each in its own layout, encoding and column names, as a user's own exports would look.
It can also write what was planted into the ``truth`` schema of the customer database so
that tests and evaluations can compare what the workbook finds with what is really there.
Notebooks never read ``truth``.

The model behind the data, in plain sentences:

1. People are consumers or distributors (businesses, about 1.5%). A consumer has one
   record in the CRM member master or in the legacy store POS member list; about 3% of the
   people were entered a second time (a duplicate record, in the same system or the
   other one) with typos, other formats and legacy 15-digit ID numbers. Once the second
   record exists, each purchase is booked under either record with equal chance.
2. Sign-ups are spread over the history, growing towards the end (the newest months get
   about twice the sign-ups of the first ones). Some members never buy (prospects,
   about 15%: many online registrations, few store sign-ups).
3. While a customer is "alive", purchases follow a Poisson process with rate lambda_i per
   week; lambda_i ~ Gamma(r, alpha) across customers. After every repeat purchase the
   customer drops out for good with probability p_i ~ Beta(a, b); lambda_i and p_i are
   independent. This is the BG/NBD model of Fader, Hardie and Lee (2005). The process
   starts with the first purchase (time zero in the paper) and nobody drops out before
   the first repeat purchase.
4. The purchase rate is modulated by a seasonal factor s(day) with mean 1 over the history
   (Double-11 and November-December, the weeks before the Spring Festival, 618; for
   en_US Black Friday and December). Purchases are drawn by thinning (Lewis and Shedler
   1979), so lambda_i is the customer's average weekly rate.
5. The value of each order is z ~ Gamma(p, nu_i) with nu_i ~ Gamma(q, gamma) across
   customers, independent of the purchase process: the gamma-gamma spend model (Colombo
   and Jiang 1999; Fader, Hardie and Lee 2005, "RFM and CLV: using iso-value curves",
   JMR 42(4)). A customer's mean order value is p / nu_i. Orders are then filled with
   products near that value; whole units make the realised total close to, not exactly,
   z (a few percent above on average for consumers; both are in ``truth.purchases``).
6. Distributors follow the same model with their own parameters: more frequent,
   wholesale-size orders at a wholesale discount, and rarely drop out.
7. After a purchase the customer complains with a small probability. A complaint
   multiplies the dropout probability at that purchase and at every later one by a
   planted factor (capped at 0.95).
8. Returns (about 5% of sales, full or partial, within a month) and cancelled orders
   (about 2% extra orders that were placed and cancelled) do not change the purchase
   process; the analysis has to net and drop them.
9. Campaigns select existing customers with a consent for the channel (mostly: a few
   without one slipped through) favouring recent buyers, and hold out a random control
   group of 10-20%. Each selected customer has a background probability p_bg of buying in
   the response window from the purchase process (0 if she has already dropped out) and,
   if contacted, an extra campaign-induced purchase with probability q_i that depends on
   age, city tier, recency, frequency and channel; it does not change the purchase
   process (a dropped-out customer can be won back for that one purchase). A few customers (most of those who
   complained, and a few others) are "sleeping dogs" (Radcliffe and Surry 2011): contact
   makes them skip their background purchases in the window with probability k, and
   they get no extra purchase. So p_without_contact = p_bg, p_with_contact =
   1 - (1 - p_bg)(1 - q_i), or p_bg (1 - k) for a sleeping dog. A response is any
   completed purchase by the person in the window, as the matchback measures it.
10. Data defects are planted at recorded rates and every one is listed in
    ``truth.defects`` with its file, key and line number.

Resident ID numbers follow GB 11643-1999: a 6-digit region code (of the person's city),
the birth date YYYYMMDD, a 3-digit sequence number (odd for men, even for women) and an
ISO 7064 MOD 11-2 check digit. The legacy 15-digit number is the 18-digit one without the
century of the birth year and without the check digit.

Everything is drawn from one numpy ``Generator`` seeded with ``seed`` (Faker is seeded
with it too and only used once to build name and street pools), so the same parameters
give byte-identical files.

References: P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), "Counting your customers" the
easy way: an alternative to the Pareto/NBD model, Marketing Science 24(2) 275-284.
P. S. Fader, B. G. S. Hardie, K. L. Lee (2005), RFM and CLV: using iso-value curves for
customer base analysis, Journal of Marketing Research 42(4) 415-430. R. Colombo,
W. Jiang (1999), A stochastic RFM model, Journal of Interactive Marketing 13(3) 2-12.
P. A. W. Lewis, G. S. Shedler (1979), Simulation of nonhomogeneous Poisson processes by
thinning, Naval Research Logistics Quarterly 26(3) 403-413. N. J. Radcliffe, P. D. Surry (2011), Real-world uplift modelling with significance-based
uplift trees, Stochastic Solutions white paper. GB 11643-1999 Citizen identification
number; ISO 7064:1983 MOD 11-2.
"""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------
# Reference data
# --------------------------------------------------------------------------------------

# Province short name -> (official name, pinyin).
PROVINCES_CN = {
    "北京": ("北京市", "Beijing"), "天津": ("天津市", "Tianjin"), "河北": ("河北省", "Hebei"),
    "山西": ("山西省", "Shanxi"), "内蒙古": ("内蒙古自治区", "Inner Mongolia"),
    "辽宁": ("辽宁省", "Liaoning"), "吉林": ("吉林省", "Jilin"), "黑龙江": ("黑龙江省", "Heilongjiang"),
    "上海": ("上海市", "Shanghai"), "江苏": ("江苏省", "Jiangsu"), "浙江": ("浙江省", "Zhejiang"),
    "安徽": ("安徽省", "Anhui"), "福建": ("福建省", "Fujian"), "江西": ("江西省", "Jiangxi"),
    "山东": ("山东省", "Shandong"), "河南": ("河南省", "Henan"), "湖北": ("湖北省", "Hubei"),
    "湖南": ("湖南省", "Hunan"), "广东": ("广东省", "Guangdong"), "广西": ("广西壮族自治区", "Guangxi"),
    "海南": ("海南省", "Hainan"), "重庆": ("重庆市", "Chongqing"), "四川": ("四川省", "Sichuan"),
    "贵州": ("贵州省", "Guizhou"), "云南": ("云南省", "Yunnan"), "西藏": ("西藏自治区", "Tibet"),
    "陕西": ("陕西省", "Shaanxi"), "甘肃": ("甘肃省", "Gansu"), "青海": ("青海省", "Qinghai"),
    "宁夏": ("宁夏回族自治区", "Ningxia"), "新疆": ("新疆维吾尔自治区", "Xinjiang"),
}

# Chinese cities: (city, pinyin, province, first 4 digits of the region code, tier,
# population in millions, disposable income index with national average = 100).
# The figures are ILLUSTRATIVE but plausible: populations are rounded resident
# populations of the prefecture around the 2020 census, tiers follow the usual
# commercial ranking loosely (new first-tier cities counted as tier 2), and the income
# index is a rough guess, not official statistics. The 4-digit prefixes are the real
# prefecture codes; the district digits appended for ID numbers are made up.
CITIES_CN = [
    ("北京", "Beijing", "北京", "1101", 1, 21.9, 205), ("上海", "Shanghai", "上海", "3101", 1, 24.9, 210),
    ("广州", "Guangzhou", "广东", "4401", 1, 18.7, 185), ("深圳", "Shenzhen", "广东", "4403", 1, 17.6, 195),
    ("重庆", "Chongqing", "重庆", "5001", 2, 32.1, 95), ("成都", "Chengdu", "四川", "5101", 2, 20.9, 130),
    ("天津", "Tianjin", "天津", "1201", 2, 13.9, 135), ("武汉", "Wuhan", "湖北", "4201", 2, 12.3, 140),
    ("西安", "Xi'an", "陕西", "6101", 2, 13.0, 120), ("杭州", "Hangzhou", "浙江", "3301", 2, 11.9, 175),
    ("苏州", "Suzhou", "江苏", "3205", 2, 12.7, 170), ("郑州", "Zhengzhou", "河南", "4101", 2, 12.6, 115),
    ("南京", "Nanjing", "江苏", "3201", 2, 9.3, 165), ("长沙", "Changsha", "湖南", "4301", 2, 10.0, 145),
    ("东莞", "Dongguan", "广东", "4419", 2, 10.5, 150), ("青岛", "Qingdao", "山东", "3702", 2, 10.1, 140),
    ("沈阳", "Shenyang", "辽宁", "2101", 2, 9.1, 120), ("宁波", "Ningbo", "浙江", "3302", 2, 9.4, 165),
    ("昆明", "Kunming", "云南", "5301", 2, 8.5, 115), ("合肥", "Hefei", "安徽", "3401", 2, 9.4, 130),
    ("佛山", "Foshan", "广东", "4406", 2, 9.5, 155), ("福州", "Fuzhou", "福建", "3501", 3, 8.3, 130),
    ("无锡", "Wuxi", "江苏", "3202", 3, 7.5, 165), ("厦门", "Xiamen", "福建", "3502", 3, 5.2, 160),
    ("哈尔滨", "Harbin", "黑龙江", "2301", 3, 10.0, 100), ("济南", "Jinan", "山东", "3701", 3, 9.2, 130),
    ("温州", "Wenzhou", "浙江", "3303", 3, 9.6, 145), ("大连", "Dalian", "辽宁", "2102", 3, 7.5, 130),
    ("南宁", "Nanning", "广西", "4501", 3, 8.7, 105), ("长春", "Changchun", "吉林", "2201", 3, 9.1, 105),
    ("泉州", "Quanzhou", "福建", "3505", 3, 8.8, 135), ("石家庄", "Shijiazhuang", "河北", "1301", 3, 11.2, 100),
    ("贵阳", "Guiyang", "贵州", "5201", 3, 6.0, 105), ("南昌", "Nanchang", "江西", "3601", 3, 6.3, 120),
    ("金华", "Jinhua", "浙江", "3307", 3, 7.1, 140), ("常州", "Changzhou", "江苏", "3204", 3, 5.3, 150),
    ("惠州", "Huizhou", "广东", "4413", 3, 6.0, 120), ("嘉兴", "Jiaxing", "浙江", "3304", 3, 5.4, 150),
    ("南通", "Nantong", "江苏", "3206", 3, 7.7, 135), ("徐州", "Xuzhou", "江苏", "3203", 3, 9.1, 105),
    ("太原", "Taiyuan", "山西", "1401", 3, 5.3, 110), ("珠海", "Zhuhai", "广东", "4404", 3, 2.4, 150),
    ("中山", "Zhongshan", "广东", "4420", 3, 4.4, 135), ("兰州", "Lanzhou", "甘肃", "6201", 3, 4.4, 100),
    ("台州", "Taizhou", "浙江", "3310", 3, 6.6, 140), ("绍兴", "Shaoxing", "浙江", "3306", 3, 5.3, 150),
    ("烟台", "Yantai", "山东", "3706", 3, 7.1, 115), ("潍坊", "Weifang", "山东", "3707", 3, 9.4, 105),
    ("保定", "Baoding", "河北", "1306", 3, 9.2, 85), ("乌鲁木齐", "Urumqi", "新疆", "6501", 3, 4.1, 110),
    ("海口", "Haikou", "海南", "4601", 3, 2.9, 110), ("呼和浩特", "Hohhot", "内蒙古", "1501", 3, 3.4, 120),
    ("银川", "Yinchuan", "宁夏", "6401", 4, 2.9, 100), ("西宁", "Xining", "青海", "6301", 4, 2.5, 95),
    ("洛阳", "Luoyang", "河南", "4103", 4, 7.1, 95), ("扬州", "Yangzhou", "江苏", "3210", 4, 4.6, 125),
    ("芜湖", "Wuhu", "安徽", "3402", 4, 3.6, 115), ("桂林", "Guilin", "广西", "4503", 4, 4.9, 90),
    ("赣州", "Ganzhou", "江西", "3607", 4, 9.0, 80), ("襄阳", "Xiangyang", "湖北", "4206", 4, 5.3, 95),
    ("宜昌", "Yichang", "湖北", "4205", 4, 4.0, 100), ("岳阳", "Yueyang", "湖南", "4306", 4, 5.1, 90),
    ("株洲", "Zhuzhou", "湖南", "4302", 4, 3.9, 105), ("绵阳", "Mianyang", "四川", "5107", 4, 4.9, 90),
    ("遵义", "Zunyi", "贵州", "5203", 4, 6.6, 85), ("曲靖", "Qujing", "云南", "5303", 4, 5.8, 80),
    ("柳州", "Liuzhou", "广西", "4502", 4, 4.2, 95), ("汕头", "Shantou", "广东", "4405", 4, 5.5, 95),
    ("湛江", "Zhanjiang", "广东", "4408", 4, 7.0, 85), ("唐山", "Tangshan", "河北", "1302", 4, 7.7, 105),
    ("邯郸", "Handan", "河北", "1304", 4, 9.4, 80), ("临沂", "Linyi", "山东", "3713", 4, 11.0, 85),
    ("济宁", "Jining", "山东", "3708", 4, 8.4, 90), ("南阳", "Nanyang", "河南", "4113", 4, 9.7, 75),
    ("商丘", "Shangqiu", "河南", "4114", 4, 7.8, 70), ("拉萨", "Lhasa", "西藏", "5401", 5, 0.9, 95),
    ("吉林", "Jilin", "吉林", "2202", 5, 3.6, 85), ("大庆", "Daqing", "黑龙江", "2306", 5, 2.8, 100),
    ("包头", "Baotou", "内蒙古", "1502", 5, 2.7, 115), ("鞍山", "Anshan", "辽宁", "2103", 5, 3.3, 90),
    ("宝鸡", "Baoji", "陕西", "6103", 5, 3.3, 85), ("天水", "Tianshui", "甘肃", "6205", 5, 3.0, 65),
    ("六安", "Lu'an", "安徽", "3415", 5, 4.4, 70), ("阜阳", "Fuyang", "安徽", "3412", 5, 8.2, 65),
    ("周口", "Zhoukou", "河南", "4116", 5, 9.0, 60), ("宿迁", "Suqian", "江苏", "3213", 5, 5.0, 90),
    ("丽江", "Lijiang", "云南", "5307", 5, 1.3, 80), ("三亚", "Sanya", "海南", "4602", 5, 1.0, 110),
]

US_STATES = {
    "NY": "New York", "CA": "California", "IL": "Illinois", "TX": "Texas", "AZ": "Arizona",
    "PA": "Pennsylvania", "FL": "Florida", "OH": "Ohio", "NC": "North Carolina", "IN": "Indiana",
    "WA": "Washington", "CO": "Colorado", "DC": "District of Columbia", "MA": "Massachusetts",
    "TN": "Tennessee", "MI": "Michigan", "OK": "Oklahoma", "OR": "Oregon", "NV": "Nevada",
    "KY": "Kentucky", "MD": "Maryland", "WI": "Wisconsin", "NM": "New Mexico", "MO": "Missouri",
    "GA": "Georgia", "NE": "Nebraska", "MN": "Minnesota", "LA": "Louisiana", "UT": "Utah",
    "ID": "Idaho", "IA": "Iowa", "VT": "Vermont", "MT": "Montana", "ND": "North Dakota", "WY": "Wyoming",
}

# US cities: (city, state, area code, tier, population in millions (city proper, rounded),
# income index with national average = 100). Illustrative figures, not official statistics.
CITIES_US = [
    ("New York", "NY", "212", 1, 8.3, 125), ("Los Angeles", "CA", "213", 1, 3.8, 115),
    ("Chicago", "IL", "312", 1, 2.7, 110), ("Houston", "TX", "713", 2, 2.3, 100),
    ("Phoenix", "AZ", "602", 2, 1.6, 95), ("Philadelphia", "PA", "215", 2, 1.6, 90),
    ("San Antonio", "TX", "210", 2, 1.5, 85), ("San Diego", "CA", "619", 2, 1.4, 120),
    ("Dallas", "TX", "214", 2, 1.3, 105), ("San Jose", "CA", "408", 2, 1.0, 150),
    ("Austin", "TX", "512", 2, 0.97, 125), ("Jacksonville", "FL", "904", 3, 0.95, 95),
    ("Fort Worth", "TX", "817", 3, 0.96, 95), ("Columbus", "OH", "614", 3, 0.91, 92),
    ("Charlotte", "NC", "704", 3, 0.88, 105), ("San Francisco", "CA", "415", 1, 0.81, 170),
    ("Indianapolis", "IN", "317", 3, 0.88, 90), ("Seattle", "WA", "206", 1, 0.75, 160),
    ("Denver", "CO", "303", 2, 0.71, 125), ("Washington", "DC", "202", 1, 0.67, 150),
    ("Boston", "MA", "617", 1, 0.65, 150), ("El Paso", "TX", "915", 4, 0.68, 75),
    ("Nashville", "TN", "615", 3, 0.69, 105), ("Detroit", "MI", "313", 3, 0.62, 70),
    ("Oklahoma City", "OK", "405", 4, 0.69, 85), ("Portland", "OR", "503", 2, 0.63, 115),
    ("Las Vegas", "NV", "702", 3, 0.65, 95), ("Memphis", "TN", "901", 4, 0.62, 75),
    ("Louisville", "KY", "502", 4, 0.62, 88), ("Baltimore", "MD", "410", 3, 0.57, 90),
    ("Milwaukee", "WI", "414", 4, 0.56, 78), ("Albuquerque", "NM", "505", 4, 0.56, 85),
    ("Tucson", "AZ", "520", 4, 0.54, 80), ("Fresno", "CA", "559", 4, 0.54, 80),
    ("Sacramento", "CA", "916", 3, 0.52, 100), ("Kansas City", "MO", "816", 3, 0.51, 95),
    ("Atlanta", "GA", "404", 2, 0.50, 120), ("Miami", "FL", "305", 2, 0.44, 100),
    ("Omaha", "NE", "402", 4, 0.49, 95), ("Raleigh", "NC", "919", 3, 0.47, 115),
    ("Minneapolis", "MN", "612", 2, 0.43, 120), ("Tampa", "FL", "813", 3, 0.40, 100),
    ("New Orleans", "LA", "504", 4, 0.38, 80), ("Cleveland", "OH", "216", 4, 0.37, 65),
    ("Pittsburgh", "PA", "412", 3, 0.30, 95), ("St. Louis", "MO", "314", 4, 0.29, 85),
    ("Cincinnati", "OH", "513", 4, 0.31, 85), ("Salt Lake City", "UT", "801", 3, 0.20, 110),
    ("Boise", "ID", "208", 5, 0.24, 100), ("Des Moines", "IA", "515", 5, 0.21, 95),
    ("Burlington", "VT", "802", 5, 0.045, 100), ("Billings", "MT", "406", 5, 0.12, 95),
    ("Fargo", "ND", "701", 5, 0.13, 100), ("Cheyenne", "WY", "307", 5, 0.065, 100),
]

# Spring Festival (lunar new year) dates, for the pre-festival shopping peak.
SPRING_FESTIVAL = [
    "2010-02-14", "2011-02-03", "2012-01-23", "2013-02-10", "2014-01-31", "2015-02-19",
    "2016-02-08", "2017-01-28", "2018-02-16", "2019-02-05", "2020-01-25", "2021-02-12",
    "2022-02-01", "2023-01-22", "2024-02-10", "2025-01-29", "2026-02-17", "2027-02-06",
    "2028-01-26", "2029-02-13", "2030-02-03", "2031-01-23", "2032-02-11", "2033-01-31",
    "2034-02-19", "2035-02-08",
]

# Product categories: (Chinese name, English name, median list price in CNY, gross margin).
CATEGORIES = [
    ("护肤美妆", "Skincare & Beauty", 180, 0.65), ("个人护理", "Personal Care", 45, 0.45),
    ("母婴用品", "Baby & Kids", 120, 0.35), ("食品饮料", "Food & Beverage", 35, 0.25),
    ("家居日用", "Household", 60, 0.40), ("厨房用品", "Kitchen", 90, 0.38),
    ("小家电", "Small Appliances", 399, 0.22), ("服饰配件", "Apparel & Accessories", 150, 0.55),
    ("保健营养", "Health & Wellness", 220, 0.60),
]
PRODUCT_ITEMS = {
    "护肤美妆": ["保湿精华液", "洁面乳", "爽肤水", "面霜", "防晒霜", "面膜", "眼霜", "口红", "粉底液", "卸妆油"],
    "个人护理": ["洗发水", "沐浴露", "牙膏", "电动牙刷头", "护手霜", "洗手液", "剃须刀片", "身体乳"],
    "母婴用品": ["婴儿纸尿裤", "奶瓶", "婴儿湿巾", "儿童牙刷", "宝宝洗护套装", "辅食碗", "婴儿爽身粉"],
    "食品饮料": ["坚果礼盒", "绿茶", "咖啡豆", "牛奶", "蜂蜜", "燕麦片", "饼干", "果汁", "红枣"],
    "家居日用": ["抽纸", "收纳箱", "洗衣液", "毛巾", "拖把", "垃圾袋", "衣架", "香薰蜡烛"],
    "厨房用品": ["不粘锅", "菜刀", "保鲜盒", "砧板", "炒锅", "汤锅", "保温杯", "餐具套装"],
    "小家电": ["电饭煲", "空气炸锅", "电热水壶", "吹风机", "破壁机", "加湿器", "扫地机器人", "电动牙刷"],
    "服饰配件": ["纯棉T恤", "羊毛围巾", "运动袜", "帆布包", "棒球帽", "真丝睡衣", "皮带"],
    "保健营养": ["维生素C片", "钙片", "鱼油胶囊", "蛋白粉", "益生菌", "胶原蛋白饮"],
}
PRODUCT_ITEMS_EN = {
    "Skincare & Beauty": [
        "Hydrating Serum", "Facial Cleanser", "Toner", "Face Cream", "Sunscreen", "Sheet Mask", "Eye Cream",
        "Lipstick", "Foundation", "Cleansing Oil"
    ],
    "Personal Care": [
        "Shampoo", "Body Wash", "Toothpaste", "Brush Heads", "Hand Cream", "Hand Soap", "Razor Blades",
        "Body Lotion"
    ],
    "Baby & Kids": [
        "Diapers", "Baby Bottle", "Baby Wipes", "Kids Toothbrush", "Baby Bath Set", "Feeding Bowl",
        "Baby Powder"
    ],
    "Food & Beverage": [
        "Nut Gift Box", "Green Tea", "Coffee Beans", "Milk", "Honey", "Oatmeal", "Cookies", "Juice",
        "Dried Dates"
    ],
    "Household": [
        "Tissues", "Storage Box", "Laundry Detergent", "Towel", "Mop", "Trash Bags", "Hangers",
        "Scented Candle"
    ],
    "Kitchen": [
        "Nonstick Pan", "Chef Knife", "Food Container", "Cutting Board", "Wok", "Stock Pot", "Travel Mug",
        "Dinnerware Set"
    ],
    "Small Appliances": [
        "Rice Cooker", "Air Fryer", "Electric Kettle", "Hair Dryer", "Blender", "Humidifier", "Robot Vacuum",
        "Electric Toothbrush"
    ],
    "Apparel & Accessories": [
        "Cotton T-Shirt", "Wool Scarf", "Sport Socks", "Canvas Tote", "Baseball Cap", "Silk Pajamas",
        "Leather Belt"
    ],
    "Health & Wellness": [
        "Vitamin C", "Calcium Tablets", "Fish Oil", "Protein Powder", "Probiotics", "Collagen Drink"
    ],
}
BRANDS_CN = ["沁然", "优品", "植萃", "悦家", "禾木", "臻选", "小鹿", "简素", "初见", "暖阳"]
BRANDS_EN = ["Evergreen", "Basics", "Pure Leaf", "Homely", "Oakwood", "Select", "Little Deer", "Simple",
             "First Light", "Sunny"]

MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180",
    "181", "182", "183", "184", "185", "186", "187", "188", "189", "191", "198", "199",
]
EMAIL_DOMAINS_CN = (["163.com", "126.com", "sina.com", "gmail.com", "hotmail.com", "foxmail.com", "outlook.com",
                     "yeah.net"],
                    [0.35, 0.17, 0.1, 0.1, 0.06, 0.1, 0.08, 0.04])
EMAIL_DOMAINS_US = (["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"],
                    [0.45, 0.15, 0.1, 0.1, 0.05, 0.15])
EMAIL_TYPOS = {
    "qq.com": "qq.con", "163.com": "163.cm", "126.com": "126.co", "sina.com": "sina.con",
    "gmail.com": "gmial.com", "hotmail.com": "hotmial.com", "foxmail.com": "foxmai.com",
    "outlook.com": "outlok.com", "yeah.net": "yeah.nt", "yahoo.com": "yaho.com",
    "aol.com": "aol.cm", "icloud.com": "icloud.co",
}

# Given-name characters beyond Faker's lists (Faker's zh_CN lists are short).
_GIVEN_FIRST = "子梓雨思欣佳嘉浩俊志文晓宇家一诗明天海建永国春秀玉丽晨安若可"
_GIVEN_MALE = "轩然航杰明豪博远佑哲睿泽宏毅诚翔康晨昊嘉铭鸿彦峻"
_GIVEN_FEMALE = "涵萱怡琪雅静婷欣悦诗梦瑶璐佳雨思晓雪莉薇蕾婉琳妍颖"

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])

CHANNELS = ["direct_mail", "sms", "email", "outbound_call"]


# --------------------------------------------------------------------------------------
# Planted parameters
# --------------------------------------------------------------------------------------

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

# --------------------------------------------------------------------------------------
# Source layouts: the column names of each export (these are the users' names, not ours)
# --------------------------------------------------------------------------------------

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
                  "ticket_type": "category", "satisfaction": "csat", "resolved": "resolved"}
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

FILES = {
    "crm_customers": "crm_customers.csv", "pos_members": "pos_members.csv",
    "distributors": "distributors.xlsx", "crm_customers_update": "crm_customers_update.csv",
    "products": "products.csv", "orders": "orders.csv", "order_lines": "order_lines.csv",
    "campaigns": "campaigns.csv", "contacts": "contacts.csv",
    "service_tickets": "service_tickets.parquet", "cities": "cities.csv",
    "do_not_contact": "do_not_contact.csv", "email_test": "email_test.csv",
}


def _end_dates(end_date: str | date, years: int) -> tuple[date, date, date]:
    """(first day of the history, end_date, CRM export date = end_date minus 2 months)."""
    end = pd.Timestamp(end_date)
    start = end - pd.DateOffset(years=years) + pd.Timedelta(days=1)
    export = end - pd.DateOffset(months=2)
    return start.date(), end.date(), export.date()


def sources_config(locale: str = "zh_CN", end_date: str | date = "2026-10-31",
                   base_dir: str = "data/raw") -> dict:
    """The sources map (the ``params/sources/*.yaml`` format) for the files :func:`generate` writes.

    ``params/sources/sample.yaml`` is this map for the defaults; a test keeps the two equal.
    """
    _check_locale(locale)
    zh = locale == "zh_CN"
    _, end, export = _end_dates(end_date, 1)

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
        source("service_tickets", "service_tickets", "parquet", dict(TICKET_COLUMNS), encoding=None,
               values={"ticket_type": {v: k for k, v in TICKET_TYPES[locale].items()}}),
        source("cities", "cities", "csv", dict(CITY_COLUMNS[locale])),
        source("do_not_contact", "suppressions", "csv", dict(SUPPRESSION_COLUMNS),
               values={"channel": {CHANNEL_LABELS[locale][c]: c for c in CHANNELS}}),
    ]
    return {"base_dir": str(base_dir), "sources": sources}


def _check_locale(locale: str) -> None:
    if locale not in ("zh_CN", "en_US"):
        raise ValueError(f"locale must be 'zh_CN' or 'en_US', not {locale!r}")


# --------------------------------------------------------------------------------------
# Resident ID numbers (GB 11643-1999)
# --------------------------------------------------------------------------------------

def id_check_digit(body17: list[str] | np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters ('0'-'9' or 'X') for 17-digit ID bodies."""
    body17 = list(body17)
    if not body17:
        return np.array([], dtype=object)
    digits = np.frombuffer("".join(body17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    c = (12 - (digits.astype(np.int64) @ ID_WEIGHTS) % 11) % 11
    return np.where(c == 10, "X", c.astype(str)).astype(object)


def id15_from_id18(id18: str) -> str:
    """The legacy 15-digit number: the 18-digit one without century and check digit."""
    return id18[:6] + id18[8:17]


_FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


def to_fullwidth(s: str) -> str:
    """Turn ASCII letters, digits and punctuation into their full-width forms (ＡＢＣ１２３)."""
    return s.translate(_FULLWIDTH)


# --------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------

@dataclass
class SampleSummary:
    """What :func:`generate` wrote and the rates it actually planted."""

    out_dir: str
    db_path: str | None
    locale: str
    seed: int
    start_date: date
    end_date: date
    files: dict[str, int] = field(default_factory=dict)  # file name -> data rows written
    persons: int = 0
    distributors: int = 0
    customer_records: int = 0
    orders: int = 0
    order_lines: int = 0
    campaigns: int = 0
    contacts: int = 0
    service_tickets: int = 0
    rates: dict[str, float] = field(default_factory=dict)  # planted rates, as measured
    top20_revenue_share: float = 0.0
    seconds: float = 0.0

    def __str__(self) -> str:
        lines = [f"Sample data ({self.locale}, seed {self.seed}, {self.start_date} .. {self.end_date}) "
                 f"in {self.out_dir} ({self.seconds:.1f} s)"]
        for name, rows in self.files.items():
            lines.append(f"  {name:<28} {rows:>9,} rows")
        lines.append(f"  {self.persons:,} people ({self.distributors:,} distributors) in "
                     f"{self.customer_records:,} customer records; {self.orders:,} orders, "
                     f"{self.order_lines:,} lines; {self.campaigns} campaigns, {self.contacts:,} contacts; "
                     f"{self.service_tickets:,} tickets")
        lines.append(f"  top 20% of buyers bring {self.top20_revenue_share:.0%} of net revenue")
        lines.append("  planted: " + ", ".join(f"{k} {v:.2%}" for k, v in self.rates.items()
                                                if k.endswith("_share") or k.endswith("_rate")))
        if self.db_path:
            lines.append(f"  ground truth in schema truth of {self.db_path}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------

def generate(out_dir, db_path=None, n_customers: int = 20_000, years: int = 3, seed: int = 42,
             locale: str = "zh_CN", end_date: str | date = "2026-10-31") -> SampleSummary:
    """Write a retailer's raw exports into ``out_dir`` and, optionally, the planted truth.

    Parameters
    ----------
    out_dir : folder for the source files (created if needed); see ``FILES``. A
        ``sources.yaml`` (the column map for these files, base_dir = ``out_dir``) is written too.
    db_path : DuckDB file; if given, schema ``truth`` is dropped and recreated there. Raw and
        main tables are left alone (loading the files is :mod:`dbmarketing.ingest`'s job).
    n_customers : number of people (consumers and distributors); everything scales with it.
    years : length of the order history in years, ending at ``end_date``.
    seed : the random seed; the same arguments give byte-identical files.
    locale : "zh_CN" (Chinese retailer) or "en_US" (American retailer, no resident IDs).
    end_date : last day of the history (the day of the latest exports).

    Returns
    -------
    SampleSummary with the files written, counts and the planted rates as measured.
    """
    _check_locale(locale)
    if n_customers < 100:
        raise ValueError("n_customers must be at least 100")
    if years < 1:
        raise ValueError("years must be at least 1")
    t0 = time.perf_counter()
    s = _Sample(int(n_customers), int(years), int(seed), locale, end_date)
    s.build()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s.write_files(out)
    if db_path is not None:
        s.write_truth(db_path)
    summary = s.summary(out, db_path)
    summary.seconds = time.perf_counter() - t0
    return summary


class _Sample:
    """Holds the random state and the intermediate tables of one generation run."""

    def __init__(self, n: int, years: int, seed: int, locale: str, end_date):
        from faker import Faker

        self.n, self.years, self.seed, self.locale = n, years, seed, locale
        self.zh = locale == "zh_CN"
        self.rng = np.random.default_rng(seed)
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        start, end, export = _end_dates(end_date, years)
        self.start_date, self.end_date, self.export_date = start, end, export
        self.start = np.datetime64(start, "D")
        self.D = int((np.datetime64(end, "D") - self.start).astype(int)) + 1  # days in history
        self.export_day = int((np.datetime64(export, "D") - self.start).astype(int))
        self.scale = CURRENCY_SCALE[locale]

    # ---------------------------------------------------------------- helpers
    def day_to_date(self, day) -> np.ndarray:
        return self.start + np.asarray(day, dtype="int64").astype("timedelta64[D]")

    def fmt_dates(self, days, fmt: str = "%Y-%m-%d") -> np.ndarray:
        """Day numbers (NaN/negative sentinel -> empty) formatted as strings."""
        days = np.asarray(days, dtype=float)
        ok = np.isfinite(days)
        iso = np.datetime_as_string(self.day_to_date(np.where(ok, days, 0).astype(int)), unit="D")
        return _format_iso(iso, ok, fmt)

    def build(self) -> None:
        self._reference()
        self._persons()
        self._records()
        self._seasonality()
        self._simulate()
        self._assign_records_to_events()
        self._campaigns()
        self._orders()
        self._tickets()
        self._order_defects()
        self._crm_update()
        self._suppressions()
        self._email_test()

    # ---------------------------------------------------------------- reference data
    def _reference(self) -> None:
        if self.zh:
            c = pd.DataFrame(CITIES_CN, columns=["city", "city_en", "province", "code4", "tier",
                                                 "population_m", "income_index"])
            c["province_full"] = [PROVINCES_CN[p][0] for p in c.province]
            c["province_en"] = [PROVINCES_CN[p][1] for p in c.province]
            c["city_full"] = c.city + "市"
        else:
            c = pd.DataFrame(CITIES_US, columns=["city", "province", "area_code", "tier", "population_m",
                                                 "income_index"])
            c["province_full"] = [US_STATES[p] for p in c.province]
            c["province_en"] = c.province_full
            c["city_full"] = c.city
            c["city_en"] = c.city
        self.cities = c
        # Products: names from category word lists, prices log-normal around the category median.
        rng = self.rng
        rows = []
        n_products = 300
        cat_share = np.array([0.16, 0.12, 0.10, 0.14, 0.12, 0.10, 0.08, 0.10, 0.08])
        counts = np.maximum(12, np.round(cat_share / cat_share.sum() * n_products).astype(int))
        for ci, ((zh_name, en_name, median, margin), k) in enumerate(zip(CATEGORIES, counts)):
            items = PRODUCT_ITEMS[zh_name] if self.zh else PRODUCT_ITEMS_EN[en_name]
            brands = BRANDS_CN if self.zh else BRANDS_EN
            seen = set()
            for j in range(k):
                while True:
                    b, it = brands[rng.integers(len(brands))], items[rng.integers(len(items))]
                    size = ["", " 标准装", " 大号", " 家庭装", " 旅行装", " 礼盒装"][rng.integers(6)] if self.zh \
                        else ["", " Standard", " Large", " Family Size", " Travel Size", " Gift Set"][rng.integers(6)]
                    name = f"{b}{it}{size}" if self.zh else f"{b} {it}{size}"
                    if name not in seen:
                        seen.add(name)
                        break
                raw = median * np.exp(rng.normal(0, 0.55)) * self.scale
                price = _price_point(raw, self.zh)
                cost = round(price * (1 - margin * np.exp(rng.normal(0, 0.12))), 2)
                cost = float(min(max(cost, 0.2 * price), 0.95 * price))
                rows.append((f"SKU{ci + 1}{j + 1:03d}", name, zh_name if self.zh else en_name, price, round(cost, 2)))
        self.products = pd.DataFrame(rows, columns=["product_id", "product_name", "category", "price", "unit_cost"])

    # ---------------------------------------------------------------- people
    def _persons(self) -> None:
        rng, n, D = self.rng, self.n, self.D
        c = self.cities
        n_dist = max(2, round(RATES["distributor_share"] * n))
        is_dist = np.zeros(n, bool)
        is_dist[rng.choice(n, n_dist, replace=False)] = True
        tier_w_cons = np.array([0, 1.6, 1.3, 1.0, 0.8, 0.6])[c.tier.to_numpy()]
        tier_w_dist = np.array([0, 0.5, 0.8, 1.0, 1.3, 1.5])[c.tier.to_numpy()]
        w_cons = c.population_m.to_numpy() * tier_w_cons
        w_dist = c.population_m.to_numpy() * tier_w_dist
        city = np.where(is_dist, rng.choice(len(c), n, p=w_dist / w_dist.sum()),
                        rng.choice(len(c), n, p=w_cons / w_cons.sum()))
        gender = np.where(rng.random(n) < 0.58, "F", "M").astype(object)
        youngest = 18 + self.years  # adult from the start of the history
        age = np.minimum(90, youngest + rng.gamma(3.0, 20 / 3.0, n))  # mean age about youngest + 20
        end = np.datetime64(self.end_date, "D")
        birth = end - (age * 365.25).astype("int64").astype("timedelta64[D]")
        gender[is_dist] = None
        # Sign-ups: density growing linearly to twice the start rate (inverse CDF), distributors early.
        g = 1.0
        u = rng.random(n)
        signup = np.floor(D / g * (-1 + np.sqrt(1 + 2 * g * u * (1 + g / 2)))).astype(int)
        signup[is_dist] = np.floor(rng.random(is_dist.sum()) * 0.7 * D).astype(int)
        signup = np.clip(signup, 0, D - 1)
        source = np.where(is_dist, "distributor", np.where(rng.random(n) < RATES["crm_share"], "crm", "pos"))
        prospect = ~is_dist & (rng.random(n) < np.where(source == "crm", RATES["prospect_crm"], RATES["prospect_pos"]))
        delay = np.where(source == "distributor", rng.exponential(14, n),
                         np.where(source == "crm", np.where(rng.random(n) < 0.5, 0.0, rng.exponential(21, n)), 0.0))
        first = signup + np.floor(delay)  # day of the first purchase
        first[prospect] = np.inf
        cp, dp = CONSUMER_PARAMS, DISTRIBUTOR_PARAMS
        lam = np.where(is_dist, rng.gamma(dp.r, 1 / dp.alpha, n), rng.gamma(cp.r, 1 / cp.alpha, n))
        pdrop = np.where(is_dist, rng.beta(dp.a, dp.b, n), rng.beta(cp.a, cp.b, n))
        nu = np.where(is_dist, rng.gamma(dp.q, 1 / (dp.gamma * self.scale), n),
                      rng.gamma(cp.q, 1 / (cp.gamma * self.scale), n))
        # Consent preferences per channel, with a privacy-minded minority.
        private = rng.random(n) < 0.3
        cons = {}
        for ch, base in (("mail", 0.55), ("sms", 0.70), ("email", 0.50), ("phone", 0.30)):
            cons[ch] = rng.random(n) < np.where(private, base * 0.4, np.minimum(0.95, base * 1.2))
        names, contact = self._names(gender, is_dist, city)
        self.P = pd.DataFrame({
            "person_id": np.arange(1, n + 1), "customer_type": np.where(is_dist, "distributor", "consumer"),
            "name": names, "contact_name": contact, "gender": gender,
            "birth": np.where(is_dist, np.datetime64("NaT"), birth), "city_idx": city,
            "signup_day": signup, "primary_source": source, "prospect": prospect, "first_day": first,
            "lam": lam, "pdrop": pdrop, "nu": nu,
            "consent_mail": cons["mail"], "consent_sms": cons["sms"], "consent_email": cons["email"],
            "consent_phone": cons["phone"],
        })
        self.P["id18"] = self._id_numbers(is_dist, city, birth, gender)
        self.P["phone"] = self._phones(city)
        self.P["email"] = self._emails(names, is_dist)
        self.P["address"] = self._addresses(n)

    def _names(self, gender, is_dist, city):
        rng, n, fake = self.rng, len(gender), self.fake
        prov = fake.provider("faker.providers.person")
        male = np.where(is_dist, rng.random(n) < 0.5, gender == "M")  # distributors: their contact person
        if self.zh:
            last = list(prov.last_names.keys())
            lw = np.array(list(prov.last_names.values()), float)
            ln = np.array(last, dtype=object)[rng.choice(len(last), n, p=lw / lw.sum())]
            fm, ff = list(prov.first_names_male), list(prov.first_names_female)
            cm = list(dict.fromkeys("".join(fm) + _GIVEN_MALE))
            cf = list(dict.fromkeys("".join(ff) + _GIVEN_FEMALE))
            c1 = list(_GIVEN_FIRST)
            given = np.empty(n, dtype=object)
            kind = rng.random(n)
            a, b, c, d = (rng.integers(0, 10_000, n) for _ in range(4))
            for i in range(n):
                pool_full = fm if male[i] else ff
                pool_char = cm if male[i] else cf
                if kind[i] < 0.35:
                    given[i] = pool_full[a[i] % len(pool_full)]
                elif kind[i] < 0.55:
                    given[i] = pool_char[b[i] % len(pool_char)]
                else:
                    given[i] = c1[c[i] % len(c1)] + pool_char[d[i] % len(pool_char)]
            names = ln + given
            contact = names.copy()
        else:
            def weighted(od, size):
                keys = list(od.keys())
                w = np.array(list(od.values()), float)
                return np.array(keys, dtype=object)[rng.choice(len(keys), size, p=w / w.sum())]
            fn = np.where(male, weighted(prov.first_names_male, n), weighted(prov.first_names_female, n))
            ln = weighted(prov.last_names, n)
            names = fn + " " + ln
            contact = names.copy()
        # Distributors are businesses: a company name; the person name is their contact.
        idx = np.flatnonzero(is_dist)
        if self.zh:
            words = ["鑫源", "恒达", "华联", "永辉", "盛世", "宏图", "金桥", "瑞丰", "嘉禾", "联创", "百川",
                     "汇通", "万家", "福源", "德润", "和信", "新航", "锦程", "天成", "正泰"]
            suffix = ["商贸有限公司", "贸易有限公司", "日用品经营部", "百货商行", "供应链有限公司", "贸易商行"]
        else:
            words = ["Supply", "Trading", "Distribution", "Wholesale", "Retail Partners", "Goods", "Merchants"]
            suffix = ["LLC", "Inc.", "Co.", "Ltd.", "Group"]
        seen: dict[str, int] = {}
        city_names = self.cities.city.to_numpy()
        for i in idx:
            for _ in range(20):  # a new name; in a very large sample the combinations run out
                w, s = words[rng.integers(len(words))], suffix[rng.integers(len(suffix))]
                if self.zh:
                    cn = f"{city_names[city[i]]}{w}{s}"
                else:
                    cn = f"{ln[i] if rng.random() < 0.5 else city_names[city[i]]} {w} {s}"
                if cn not in seen:
                    break
                ln[i] = ln[rng.integers(n)]
            k = seen[cn] = seen.get(cn, 0) + 1
            names[i] = cn if k == 1 else (f"{cn}第{k}分公司" if self.zh else f"{cn} #{k}")
        return names, contact

    def _id_numbers(self, is_dist, city, birth, gender) -> np.ndarray:
        """18-digit resident ID numbers (consumers, zh_CN only; None otherwise)."""
        n = len(is_dist)
        out = np.full(n, None, dtype=object)
        if not self.zh:
            return out
        rng = self.rng
        idx = np.flatnonzero(~is_dist)
        code4 = self.cities.code4.to_numpy()[city[idx]]
        district = rng.integers(2, 8, len(idx))
        region = [f"{c}{d:02d}" for c, d in zip(code4, district)]
        b = np.char.replace(np.datetime_as_string(birth[idx], unit="D").astype(str), "-", "")
        male = gender[idx] == "M"
        seq = rng.integers(1, 500, len(idx)) * 2 + male  # odd for men, even for women
        body = np.array([f"{r}{d}{s:03d}" for r, d, s in zip(region, b, seq)], dtype=object)
        for _ in range(100):  # make the bodies unique (a clash needs the same place, day and number)
            _, first = np.unique(body, return_index=True)
            clash = np.setdiff1d(np.arange(len(body)), first)
            if not clash.size:
                break
            seq[clash] = rng.integers(1, 500, clash.size) * 2 + male[clash]
            body[clash] = [f"{region[i]}{b[i]}{seq[i]:03d}" for i in clash]
        out[idx] = body + id_check_digit(body)
        return out

    def _phones(self, city) -> np.ndarray:
        """Unique phone numbers as plain digits (11-digit mobiles; 10-digit US numbers)."""
        rng, n = self.rng, len(city)

        def draw(k, cities):
            if self.zh:
                pre = np.array(MOBILE_PREFIXES, dtype=object)[rng.integers(0, len(MOBILE_PREFIXES), k)]
                return pre + np.char.zfill(rng.integers(0, 10**8, k).astype(str), 8).astype(object)
            area = self.cities.area_code.to_numpy()[cities]
            exch = rng.integers(200, 1000, k)
            exch = np.where(exch % 100 == 11, exch + 1, exch)
            line = np.char.zfill(rng.integers(0, 10**4, k).astype(str), 4).astype(object)
            return area + exch.astype(str).astype(object) + line

        ph = draw(n, city)
        for _ in range(100):
            _, first = np.unique(ph, return_index=True)
            clash = np.setdiff1d(np.arange(n), first)
            if not clash.size:
                break
            ph[clash] = draw(clash.size, city[clash])
        return ph

    def _emails(self, names, is_dist) -> np.ndarray:
        rng, n, fake = self.rng, len(names), self.fake
        if self.zh:
            pool = np.array(sorted({fake.user_name() for _ in range(3000)}), dtype=object)
            user = pool[rng.integers(0, len(pool), n)] + rng.integers(1, 1000, n).astype(str).astype(object)
            dom, w = EMAIL_DOMAINS_CN
            domain = np.array(dom, dtype=object)[rng.choice(len(dom), n, p=w)]
            qq = rng.random(n) < 0.35
            user[qq] = rng.integers(10_000_000, 3_000_000_000, qq.sum()).astype(str).astype(object)
            domain[qq] = "qq.com"
        else:
            parts = [re.sub(r"[^a-z ]", "", s.lower()).split() for s in names]
            style = rng.integers(0, 3, n)
            num = rng.integers(1, 100, n)
            user = np.array([
                (f"{p[0]}.{p[-1]}" if st == 0 else f"{p[0][0]}{p[-1]}{nm}" if st == 1 else f"{p[0]}{nm}")
                if p else f"user{nm}" for p, st, nm in zip(parts, style, num)], dtype=object)
            dom, w = EMAIL_DOMAINS_US
            domain = np.array(dom, dtype=object)[rng.choice(len(dom), n, p=w)]
        dist_idx = np.flatnonzero(is_dist)
        if self.zh:
            user[dist_idx] = "sales" + rng.integers(100, 10_000, dist_idx.size).astype(str).astype(object)
        else:
            user[dist_idx] = "orders" + rng.integers(100, 10_000, dist_idx.size).astype(str).astype(object)
        email = user + "@" + domain
        seen, out = set(), email.copy()
        for i, e in enumerate(email):  # unique addresses: add the person's number on a clash
            if e in seen:
                u, d = e.split("@")
                out[i] = f"{u}{i + 1}@{d}"
            seen.add(out[i])
        return out

    def _addresses(self, n) -> np.ndarray:
        rng, fake = self.rng, self.fake
        streets = np.array(sorted({fake.street_name() for _ in range(1500)}), dtype=object)
        st = streets[rng.integers(0, len(streets), n)]
        num = rng.integers(1, 400, n)
        flat = rng.random(n) < 0.7
        bld, unit, floor_, room = (rng.integers(1, 21, n), rng.integers(1, 7, n), rng.integers(1, 27, n),
                                   rng.integers(1, 5, n))
        if self.zh:
            return np.array([f"{s}{k}号" + (f"{b}栋{u}单元{f}{r:02d}室" if fl else "")
                             for s, k, fl, b, u, f, r in zip(st, num, flat, bld, unit, floor_, room)], dtype=object)
        num = rng.integers(1, 9900, n)
        apt = rng.random(n) < 0.3
        return np.array([f"{k} {s}" + (f" Apt {f}{r:02d}" if a else "")
                         for s, k, a, f, r in zip(st, num, apt, floor_, room)], dtype=object)

    # ---------------------------------------------------------------- customer records
    def _records(self) -> None:
        """One record per person in her first system, plus the planted duplicates."""
        rng, P, D = self.rng, self.P, self.D
        n = self.n
        consumer = (P.customer_type == "consumer").to_numpy()
        cand = np.flatnonzero(consumer & (P.signup_day.to_numpy() <= D - 60))
        n_dup = min(len(cand), round(RATES["duplicate_share"] * n))
        dup_person = np.sort(rng.choice(cand, n_dup, replace=False))
        prim_src = P.primary_source.to_numpy()
        same = rng.random(n_dup) < RATES["duplicate_same_source"]
        other = np.where(prim_src[dup_person] == "crm", "pos", "crm")
        dup_src = np.where(same, prim_src[dup_person], other)
        lo = P.signup_day.to_numpy()[dup_person] + 30
        dup_day = lo + np.floor(rng.random(n_dup) * (D - lo)).astype(int)
        person_idx = np.concatenate([np.arange(n), dup_person])
        R = pd.DataFrame({
            "person_idx": person_idx,
            "source": np.concatenate([prim_src, dup_src]),
            "is_duplicate": np.concatenate([np.zeros(n, bool), np.ones(n_dup, bool)]),
            "signup_day": np.concatenate([P.signup_day.to_numpy(), dup_day]),
        })
        m = len(R)
        src = R.source.to_numpy()
        pi = person_idx
        crm, pos, dist = src == "crm", src == "pos", src == "distributor"

        def present(p_crm, p_pos, p_dist=1.0):
            return rng.random(m) < np.where(crm, p_crm, np.where(pos, p_pos, p_dist))

        cols = {}
        cols["name"] = P.name.to_numpy()[pi].copy()
        cols["contact_name"] = P.contact_name.to_numpy()[pi].copy()
        g = P.gender.to_numpy()[pi].copy()
        g[~present(0.97, 0.98, 0.0)] = None
        cols["gender"] = g
        birth = P.birth.to_numpy()[pi].copy()
        birth[~present(0.70, 0.85, 0.0)] = np.datetime64("NaT")
        cols["birth"] = birth
        idn = P.id18.to_numpy()[pi].copy()
        idn[~present(0.60, 0.85, 0.0)] = None
        cols["id_number"] = idn
        ph = P.phone.to_numpy()[pi].copy()
        if not self.zh:  # US systems store formatted numbers
            ph = np.array([_us_phone(x, s_) for x, s_ in zip(ph, src)], dtype=object)
        cols["phone"] = ph
        em = P.email.to_numpy()[pi].copy()
        em[~present(0.75, 0.25, 0.8)] = None
        cols["email"] = em
        addr = P.address.to_numpy()[pi].copy()
        addr[~present(0.90, 0.75, 1.0)] = None
        cols["address"] = addr
        ci = P.city_idx.to_numpy()[pi]
        c = self.cities
        # Spelling convention of each system: CRM dropdowns use official names, POS and the
        # distributor sheet short ones (zh); US: state codes everywhere.
        full = crm if self.zh else np.zeros(m, bool)
        cols["province"] = np.where(full, c.province_full.to_numpy()[ci], c.province.to_numpy()[ci]).astype(object)
        cols["city"] = np.where(full, c.city_full.to_numpy()[ci], c.city.to_numpy()[ci]).astype(object)
        ch = np.array(["web", "app", "wechat", "store"], dtype=object)[rng.choice(4, m, p=[0.45, 0.25, 0.15, 0.15])]
        cols["signup_channel"] = np.where(crm, ch, None)
        for k in ("mail", "sms", "email", "phone"):
            v = P[f"consent_{k}"].to_numpy()[pi].astype(object)
            flip = R.is_duplicate.to_numpy() & (rng.random(m) < 0.1)
            v[flip] = ~v[flip].astype(bool)
            if k in ("mail", "email"):
                v[~crm] = None  # the POS and distributor lists do not ask
            else:
                v[dist] = None
            cols[f"consent_{k}"] = v
        lvl = np.array(["standard", "silver", "gold"], dtype=object)[rng.choice(3, m, p=[0.7, 0.22, 0.08])]
        cols["member_level"] = lvl
        store = np.array(["万达店", "中心店", "东站店", "新城店", "天街店"] if self.zh
                         else [" #101", " #205", " Mall", " Downtown", " Plaza"], dtype=object)
        cols["home_store"] = c.city.to_numpy()[ci].astype(object) + store[rng.integers(0, 5, m)]
        for k, v in cols.items():
            R[k] = v
        R["defects"] = [[] for _ in range(m)]
        self.R = R
        self._plant_record_defects()
        # Customer numbers in each system in order of registration.
        R["customer_id"] = None
        for s_, fmt in (("crm", "C{:07d}"), ("pos", "P{:06d}"), ("distributor", "D{:05d}")):
            idx = np.flatnonzero(R.source.to_numpy() == s_)
            order = idx[np.lexsort((R.person_idx.to_numpy()[idx], R.signup_day.to_numpy()[idx]))]
            R.loc[order, "customer_id"] = [fmt.format(k + 1) for k in range(len(order))]
        self.R = R
        # Per person: her first record and her duplicate (if any).
        self.rec_primary = np.flatnonzero(~R.is_duplicate.to_numpy())  # row i is person i
        self.rec_dup = np.full(n, -1)
        self.rec_dup[dup_person] = np.arange(n, m)

    def _plant_record_defects(self) -> None:
        """Plant formatting defects, typos and ID inconsistencies on the customer records."""
        rng, R = self.rng, self.R
        m = len(R)
        src = R.source.to_numpy()
        dup = R.is_duplicate.to_numpy()
        defects = R.defects.to_list()
        name, phone, email, idn, birth, gender, addr, prov, city = (
            R[c].to_numpy().copy() for c in ("name", "phone", "email", "id_number", "birth", "gender",
                                             "address", "province", "city"))
        ci = self.P.city_idx.to_numpy()[R.person_idx.to_numpy()]
        c = self.cities
        born_pre2000 = np.array([not np.isnat(b) and b < np.datetime64("2000-01-01") for b in
                                 self.P.birth.to_numpy()[R.person_idx.to_numpy()]])

        def add(i, kind):
            defects[i].append(kind)

        # Legacy 15-digit numbers: mostly the POS list, and the duplicates.
        has_id = np.array([isinstance(v, str) for v in idn])
        p15 = np.where(src == "pos", RATES["legacy_id15_pos"], RATES["legacy_id15_crm"])
        p15 = np.where(dup, 0.4, p15)
        for i in np.flatnonzero(has_id & born_pre2000 & (rng.random(m) < p15)):
            idn[i] = id15_from_id18(idn[i])
            add(i, "legacy_id_15")
        # Duplicates: typos, full-width characters, phone formats, address and place variants.
        for i in np.flatnonzero(dup):
            kinds = [k for k, pr in (("name_typo", 0.45), ("fullwidth", 0.25), ("phone_format", 0.45),
                                     ("address_variant", 0.4), ("place_variant", 0.25)) if rng.random() < pr]
            if not kinds and "legacy_id_15" not in defects[i]:
                kinds = ["phone_format"]
            for k in kinds:
                if k == "name_typo":
                    name[i] = self._typo(name[i])
                elif k == "phone_format":
                    phone[i] = self._phone_variant(phone[i])
                elif k == "fullwidth":
                    if self.zh:
                        if isinstance(email[i], str) and rng.random() < 0.4:
                            u, d = email[i].split("@")
                            email[i] = to_fullwidth(u) + "@" + d
                        else:
                            phone[i] = re.sub(r"[0-9]", lambda mm: to_fullwidth(mm.group()), phone[i])
                    else:
                        if isinstance(email[i], str) and rng.random() < 0.4:
                            u, d = email[i].split("@")
                            email[i] = to_fullwidth(u) + "@" + d
                        else:
                            first, _, rest = name[i].partition(" ")
                            name[i] = to_fullwidth(first) + " " + rest
                elif k == "address_variant":
                    if not isinstance(addr[i], str):
                        continue
                    addr[i] = self._address_variant(addr[i], c.city.iloc[ci[i]])
                elif k == "place_variant":
                    prov[i], city[i] = self._place_variant(prov[i], city[i], ci[i])
                add(i, k)
        # Place-name variants on first records too.
        pv = np.select([src == "crm", src == "pos"], [RATES["place_variant_crm"], RATES["place_variant_pos"]], 0.03)
        for i in np.flatnonzero(~dup & (rng.random(m) < pv)):
            prov[i], city[i] = self._place_variant(prov[i], city[i], ci[i])
            add(i, "place_variant")
        # ID numbers that disagree with the recorded birth date or gender, or fail the check digit.
        id18 = np.flatnonzero(np.array([isinstance(v, str) and len(v) == 18 for v in idn]))
        n_bad = round(RATES["id_bad_check"] * len(id18))
        bad = rng.choice(id18, n_bad, replace=False) if n_bad else np.array([], int)
        for i in bad:
            right = idn[i][-1]
            wrong = "0123456789X".replace(right, "")[rng.integers(10)]
            idn[i] = idn[i][:17] + wrong
            add(i, "id_bad_check_digit")
        rest = np.setdiff1d(id18, bad)
        rest = rest[[not np.isnat(birth[i]) and isinstance(gender[i], str) for i in rest]]
        n_mis = round(RATES["id_mismatch"] * len(id18))
        mis = rng.choice(rest, min(n_mis, len(rest)), replace=False)
        for j, i in enumerate(mis):
            if j % 5 < 3:  # birth date typed wrong: day and month swapped, or a digit off
                b = pd.Timestamp(birth[i])
                if b.day <= 12 and b.day != b.month:
                    nb = b.replace(month=b.day, day=b.month)
                else:
                    nb = b + pd.DateOffset(years=int(rng.choice([-10, -1, 1, 10])))
                birth[i] = np.datetime64(nb.date(), "D")
                add(i, "id_birth_mismatch")
            else:
                gender[i] = "F" if gender[i] == "M" else "M"
                add(i, "id_gender_mismatch")
        # Invalid phones (on plainly written numbers) and e-mail domain typos.
        plain = np.array([not ({"phone_format", "fullwidth"} & set(d)) for d in defects])
        for i in np.flatnonzero(plain & (rng.random(m) < RATES["invalid_phone"])):
            digits = re.sub(r"\D", "", phone[i])
            if rng.random() < 0.5:
                k = rng.integers(len(digits))
                phone[i] = digits[:k] + digits[k + 1:]
            else:
                phone[i] = ("12" if self.zh else "1") + digits[2 if self.zh else 1:]
            add(i, "invalid_phone")
        for i in np.flatnonzero(np.array([isinstance(e, str) for e in email]) & (rng.random(m) < RATES["email_typo"])):
            u, d = email[i].rsplit("@", 1)
            if d in EMAIL_TYPOS:
                email[i] = f"{u}@{EMAIL_TYPOS[d]}"
                add(i, "email_domain_typo")
        R["name"], R["phone"], R["email"], R["id_number"] = name, phone, email, idn
        R["birth"], R["gender"], R["address"], R["province"], R["city"] = birth, gender, addr, prov, city
        R["defects"] = defects

    def _typo(self, name: str) -> str:
        """One character changed or dropped (never the family name of a 2-character name)."""
        rng = self.rng
        if self.zh:
            pool = _GIVEN_MALE + _GIVEN_FEMALE + _GIVEN_FIRST
            if len(name) >= 3 and rng.random() < 0.4:
                k = int(rng.integers(1, len(name)))
                return name[:k] + name[k + 1:]
            k = int(rng.integers(1, len(name)))
            new = name[k]
            while new == name[k]:
                new = pool[rng.integers(len(pool))]
            return name[:k] + new + name[k + 1:]
        letters = [k for k, ch in enumerate(name) if ch.isalpha()]
        k = letters[int(rng.integers(1, len(letters)))]
        r = rng.random()
        if r < 0.4:
            return name[:k] + name[k + 1:]
        if r < 0.7 and k + 1 < len(name) and name[k + 1].isalpha() and name[k + 1] != name[k]:
            return name[:k] + name[k + 1] + name[k] + name[k + 2:]
        new = name[k]
        while new.lower() == name[k].lower():
            new = "aeioulnrst"[rng.integers(10)]
        return name[:k] + new + name[k + 1:]

    def _phone_variant(self, ph: str) -> str:
        d = re.sub(r"\D", "", ph)
        k = int(self.rng.integers(5))
        if self.zh:
            return [f"+86 {d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}", f"0086{d}",
                    f"+86-{d}", f"{d[:3]} {d[3:7]} {d[7:]}"][k]
        return [f"+1 {d[:3]} {d[3:6]} {d[6:]}", f"({d[:3]}) {d[3:6]}-{d[6:]}", f"1-{d[:3]}-{d[3:6]}-{d[6:]}",
                f"{d[:3]}.{d[3:6]}.{d[6:]}", f"+1{d}"][k]

    def _address_variant(self, a: str, city: str) -> str:
        k = int(self.rng.integers(4))
        if self.zh:
            if k == 0:
                return city + "市" + a
            if k == 1:
                return re.sub(r"[0-9]", lambda mm: to_fullwidth(mm.group()), a)
            if k == 2 and "栋" in a:
                return re.sub(r"(\d+)栋(\d+)单元(\d+)室", r"\1-\2-\3", a)
            return a.replace("号", "#", 1)
        if k == 0:
            return a.upper()
        if k == 1 and " Apt " in a:
            return a.replace(" Apt ", " #")
        abbrev = {" Street": " St.", " Avenue": " Ave", " Road": " Rd", " Drive": " Dr", " Lane": " Ln"}
        for long, short in abbrev.items():
            if long in a:
                return a.replace(long, short)
        return a + ", " + city

    def _place_variant(self, prov: str, city: str, ci: int) -> tuple[str, str]:
        """Province/city spelled off the system's convention (北京 / 北京市 / Beijing)."""
        c = self.cities.iloc[ci]
        k = int(self.rng.integers(3))
        if self.zh:
            if k == 0:  # pinyin
                return c.province_en, c.city_en
            if prov == c.province_full or city == c.city_full:  # official -> short
                return c.province, c.city
            return c.province_full, c.city_full  # short -> official
        if k == 0:
            return c.province_full, city
        if k == 1:
            return prov, city.upper()
        return prov, f"{city}, {c.province}"

    # ---------------------------------------------------------------- seasonality
    def _seasonality(self) -> None:
        days = self.start + np.arange(self.D).astype("timedelta64[D]")
        month = days.astype("datetime64[M]").astype(int) % 12 + 1
        dom = (days - days.astype("datetime64[M]")).astype(int) + 1
        s = np.ones(self.D)
        if self.zh:
            s[(month == 6) & (dom < 18)] = 1.2
            s[(month == 6) & (dom == 18)] = 2.5  # 618
            s[(month == 11) & (dom < 11)] = 1.6
            s[(month == 11) & (dom == 11)] = 4.0  # Double 11
            s[(month == 11) & (dom > 11)] = 1.25
            s[month == 12] = 1.3
            s[(month == 12) & (dom == 12)] = 2.0  # Double 12
            for sf in SPRING_FESTIVAL:
                d = int((np.datetime64(sf) - self.start).astype(int))
                if -30 < d < self.D + 30:
                    s[max(0, d - 21):max(0, min(self.D, d))] = 1.7  # new-year shopping
                    s[max(0, d):max(0, min(self.D, d + 7))] = 0.5   # the holiday week
        else:
            s[month == 1] = 0.85
            s[month == 8] = 1.15  # back to school
            s[(month == 7) & (dom >= 10) & (dom <= 12)] = 1.5
            s[month == 12] = 1.5
            s[(month == 12) & (dom >= 25)] = 0.8
            years = np.unique(days.astype("datetime64[Y]").astype(int) + 1970)
            for y in years:
                nov1 = np.datetime64(f"{y}-11-01")
                thursday = nov1 + np.timedelta64((3 - (nov1.astype(int) + 3) % 7) % 7 + 21, "D")
                for off, f in ((-3, 1.3), (-2, 1.3), (-1, 1.3), (0, 0.7), (1, 4.0), (2, 2.0), (3, 1.5), (4, 2.5)):
                    d = int((thursday + np.timedelta64(off, "D") - self.start).astype(int))
                    if 0 <= d < self.D:
                        s[d] = f
        self.season = s / s.mean()
        self.season_cum = np.concatenate([[0.0], np.cumsum(self.season)])

    # ---------------------------------------------------------------- the purchase process
    def _simulate(self) -> None:
        """BG/NBD purchases by thinning, with complaints raising the dropout probability."""
        rng, P, D = self.rng, self.P, self.D
        n = self.n
        lam_day = P.lam.to_numpy() / 7.0
        pdrop = P.pdrop.to_numpy()
        first = P.first_day.to_numpy()
        smax = self.season.max()
        pc, mult = RATES["complaint_per_purchase"], RATES["complaint_multiplier"]
        complained = np.zeros(n, bool)
        first_complaint = np.full(n, np.nan)
        dropout = np.full(n, np.nan)
        idx = np.flatnonzero(first < D)
        t = first[idx] + rng.random(idx.size)
        ev_p, ev_t, ev_c = [idx], [t], []
        comp = rng.random(idx.size) < pc
        ev_c.append(comp)
        complained[idx[comp]] = True
        first_complaint[idx[comp]] = t[comp]
        active, cur = idx, t
        while active.size:
            cur = cur + rng.exponential(1.0 / (lam_day[active] * smax))
            inside = cur < D
            active, cur = active[inside], cur[inside]
            acc = rng.random(active.size) < self.season[np.minimum(cur.astype(int), D - 1)] / smax
            pa, ta = active[acc], cur[acc]
            comp = rng.random(pa.size) < pc
            new = pa[comp & ~complained[pa]]
            first_complaint[new] = ta[comp & ~complained[pa]]
            complained[pa[comp]] = True
            peff = np.where(complained[pa], np.minimum(0.95, pdrop[pa] * mult), pdrop[pa])
            drop = rng.random(pa.size) < peff
            dropout[pa[drop]] = ta[drop]
            ev_p.append(pa)
            ev_t.append(ta)
            ev_c.append(comp)
            keep = np.ones(active.size, bool)
            keep[np.flatnonzero(acc)[drop]] = False
            active, cur = active[keep], cur[keep]
        p = np.concatenate(ev_p)
        t = np.concatenate(ev_t)
        order = np.lexsort((t, p))
        self.E = pd.DataFrame({
            "person_idx": p[order], "t": t[order], "origin": "process",
            "complaint": np.concatenate(ev_c)[order], "deleted": False,
        })
        self.complained, self.first_complaint, self.dropout = complained, first_complaint, dropout

    def _assign_records_to_events(self) -> None:
        """Which record (customer number) each purchase was booked under."""
        E = self.E
        p = E.person_idx.to_numpy()
        rec = self.rec_primary[p].copy()
        dup = self.rec_dup[p]
        has = dup >= 0
        dup_day = np.where(has, self.R.signup_day.to_numpy()[np.maximum(dup, 0)], np.inf)
        use_dup = has & (E.t.to_numpy() >= dup_day) & (self.rng.random(len(E)) < 0.5)
        rec[use_dup] = dup[use_dup]
        E["record"] = rec

    # ---------------------------------------------------------------- campaigns
    def _campaigns(self) -> None:
        """Past campaigns with random control groups; campaign-induced purchases planted."""
        rng, P, R, D = self.rng, self.P, self.R, self.D
        n_camp = max(4, 2 * self.years)
        days = np.linspace(90, D - 45, n_camp).astype(int)
        lam_day = P.lam.to_numpy() / 7.0
        age_end = ((np.datetime64(self.end_date) - P.birth.to_numpy()).astype("timedelta64[D]").astype(float) / 365.25)
        tier = self.cities.tier.to_numpy()[P.city_idx.to_numpy()]
        camp_rows, resp_rows, new_events = [], [], []
        E = self.E
        ev_p, ev_t = E.person_idx.to_numpy(), E.t.to_numpy()
        deleted = np.zeros(len(E), bool)
        for k, tc in enumerate(days):
            channel = CHANNELS[k % 4]
            frac, spread, window, cost, icpt = CAMPAIGN_DESIGN[channel]
            cid = f"CMP{k + 1:03d}"
            # Who the marketer could select: consumers who bought before, registered in time.
            before = ev_t < tc
            n_past = np.bincount(ev_p[before], minlength=self.n)
            last = np.full(self.n, -np.inf)
            np.maximum.at(last, ev_p[before], ev_t[before])
            rp = R.person_idx.to_numpy()
            ok = (R.source.isin(["crm", "pos"]).to_numpy() & (R.signup_day.to_numpy() <= tc - 7)
                  & (n_past[rp] > 0))
            if channel == "email":
                ok &= R.email.notna().to_numpy()
            if channel == "direct_mail":
                ok &= R.address.notna().to_numpy()
            elig = np.flatnonzero(ok)
            elig = elig[rng.permutation(elig.size)]
            _, first_of_person = np.unique(rp[elig], return_index=True)  # one record per person
            elig = np.sort(elig[first_of_person])
            consent_col = {"direct_mail": "consent_mail", "sms": "consent_sms", "email": "consent_email",
                           "outbound_call": "consent_phone"}[channel]
            consent = R[consent_col].to_numpy()[elig]
            consent = np.array([bool(v) if v is not None else False for v in consent])
            recency = tc - last[rp[elig]]
            w = np.where(consent, 1.0, 0.03) * np.where(recency <= 180, 3.0, np.where(recency <= 365, 2.0, 1.0))
            size = min(elig.size, max(20, round(frac * elig.size)))
            sel = np.sort(rng.choice(elig, size, replace=False, p=w / w.sum()))
            ctrl_frac = rng.uniform(0.10, 0.20)
            cell = np.full(size, "test", dtype=object)
            cell[rng.choice(size, round(ctrl_frac * size), replace=False)] = "control"
            cday = tc + rng.integers(0, spread, size)
            pp = rp[sel]
            # Background: P(at least one purchase in the window | state at contact).
            alive = ~(self.dropout[pp] < cday)
            season_sum = self.season_cum[np.minimum(cday + window, D)] - self.season_cum[cday]
            p_bg = np.where(alive, 1 - np.exp(-lam_day[pp] * season_sum), 0.0)
            # Campaign-induced purchase q: heterogeneous by customer attributes.
            age = np.nan_to_num(age_end[pp] - (D - cday) / 365.25, nan=40.0)
            slope = {"direct_mail": 0.03, "sms": -0.03, "email": -0.02, "outbound_call": 0.015}[channel]
            recent = (cday - last[pp]) <= 90
            logit = (icpt + slope * (age - 40) + 0.15 * (3 - tier[pp]) + 0.6 * recent
                     + 0.25 * np.log1p(n_past[pp]) - 0.7 * ~alive + rng.normal(0, 0.3, size))
            q = 1 / (1 + np.exp(-logit))
            dog = rng.random(size) < np.where(self.complained[pp] & (self.first_complaint[pp] < cday),
                                              RATES["sleeping_dog_if_complained"], RATES["sleeping_dog_share"])
            q[dog] = 0.0
            ksup = RATES["sleeping_dog_suppression"]
            p0 = p_bg
            p1 = np.where(dog, p_bg * (1 - ksup), 1 - (1 - p_bg) * (1 - q))
            test = cell == "test"
            # Realise: extra purchases for contacted customers, suppressed ones for sleeping dogs.
            extra = test & ~dog & (rng.random(size) < q)
            et = cday[extra] + window * rng.beta(1.0, 2.5, extra.sum())
            et = np.minimum(et, D - 1e-6)
            new_events.append(pd.DataFrame({"person_idx": pp[extra], "t": et, "origin": "campaign",
                                            "complaint": False, "deleted": False, "campaign_id": cid,
                                            "record": sel[extra]}))  # booked under the contacted number
            suppress = test & dog & (rng.random(size) < ksup)
            for j in np.flatnonzero(suppress):
                lo, hi = np.searchsorted(ev_p, [pp[j], pp[j] + 1])
                tt = ev_t[lo:hi]
                deleted[lo:hi] |= (tt >= cday[j]) & (tt < cday[j] + window)
            resp_rows.append(pd.DataFrame({
                "campaign_id": cid, "record": sel, "person_idx": pp, "cell": cell, "contact_day": cday,
                "window": window, "consent": consent[np.searchsorted(elig, sel)], "alive_at_contact": alive,
                "p_background": p_bg, "q_campaign": q, "sleeping_dog": dog,
                "p_without_contact": p0, "p_with_contact": p1, "uplift": p1 - p0,
            }))
            label = CHANNEL_LABELS[self.locale][channel]
            start_d = self.day_to_date(tc).astype(object)
            camp_rows.append({
                "campaign_id": cid, "campaign_name": _campaign_name(start_d, label, self.zh),
                "channel": channel, "start_day": int(tc), "end_day": int(tc + spread - 1), "window": window,
                "cost_per_contact": round(cost * (self.scale if channel in ("direct_mail", "outbound_call") else 1), 2),
                "offer": OFFERS[self.locale][channel], "control_share": ctrl_frac, "q_intercept": icpt,
            })
        E["deleted"] = deleted
        E["campaign_id"] = None
        extra = pd.concat(new_events, ignore_index=True)
        self.E = pd.concat([E, extra], ignore_index=True)
        self.campaigns = pd.DataFrame(camp_rows)
        self.responses = pd.concat(resp_rows, ignore_index=True)

    # ---------------------------------------------------------------- orders
    def _orders(self) -> None:
        """Turn purchases into orders and lines; add anonymous sales, returns and cancellations."""
        rng, P, R, D = self.rng, self.P, self.R, self.D
        E = self.E[~self.E.deleted].reset_index(drop=True)
        p = E.person_idx.to_numpy()
        n_id = len(E)
        n_anon = round(RATES["anonymous_orders"] / (1 - RATES["anonymous_orders"]) * n_id)
        # Anonymous walk-in sales: seasonal dates, random cities, consumer-like baskets.
        anon_day = rng.choice(D, n_anon, p=self.season / self.season.sum())
        cp = CONSUMER_PARAMS
        anon_nu = rng.gamma(cp.q, 1 / (cp.gamma * self.scale), n_anon)
        c = self.cities
        w = c.population_m.to_numpy()
        nu = np.concatenate([P.nu.to_numpy()[p], anon_nu])
        is_dist = np.concatenate([(P.customer_type.to_numpy() == "distributor")[p], np.zeros(n_anon, bool)])
        shape = np.where(is_dist, DISTRIBUTOR_PARAMS.p, cp.p)
        value = rng.gamma(shape, 1 / nu)
        day = np.concatenate([np.floor(E.t.to_numpy()).astype(int), anon_day])
        person = np.concatenate([p, np.full(n_anon, -1)])
        record = np.concatenate([E.record.to_numpy(), np.full(n_anon, -1)])
        src = np.where(record >= 0, R.source.to_numpy()[np.maximum(record, 0)], "anonymous")
        # Channel by the system the customer is registered in.
        u = rng.random(len(day))
        channel = np.select(
            [src == "distributor", src == "anonymous",
             (src == "crm") & (u < 0.55), (src == "crm") & (u < 0.90), src == "crm",
             (src == "pos") & (u < 0.90), (src == "pos") & (u < 0.95)],
            ["distributor", "store", "online", "store", "phone", "store", "online"], "phone").astype(object)
        home = np.concatenate([P.city_idx.to_numpy()[p], rng.choice(len(c), n_anon, p=w / w.sum())])
        away = (channel == "store") & (rng.random(len(day)) < 0.08)
        city = np.where(away, rng.choice(len(c), len(day), p=w / w.sum()), home)
        n_sale = len(day)
        O = pd.DataFrame({
            "day": day, "person_idx": person, "record": record, "channel": channel, "city_idx": city,
            "order_type": "sale", "status": "completed", "orig": -1, "value": value,
            "origin": np.concatenate([E.origin.to_numpy(), np.full(n_anon, "anonymous", dtype=object)]),
            "campaign_id": np.concatenate([E.campaign_id.to_numpy(), np.full(n_anon, None, dtype=object)]),
            "event": np.concatenate([np.arange(n_id), np.full(n_anon, -1)]),
        })
        L = self._lines(value, is_dist, day)
        # Returns: a share of the sales comes back within a month, fully or partly.
        ret = np.flatnonzero(rng.random(n_sale) < RATES["returns"])
        rday = day[ret] + 1 + rng.geometric(1 / 10, ret.size)
        ret, rday = ret[rday < D], rday[rday < D]
        starts = np.searchsorted(L.order.to_numpy(), np.arange(n_sale + 1))
        lo, hi = starts[ret], starts[ret + 1]
        full = rng.random(ret.size) < 0.4
        ret_lines, ret_qty = [], []
        for j in range(ret.size):
            if full[j]:
                rows = np.arange(lo[j], hi[j])
                q = -L.qty.to_numpy()[rows]
            else:
                rows = np.array([lo[j] + rng.integers(hi[j] - lo[j])])
                q = -rng.integers(1, L.qty.to_numpy()[rows[0]] + 1, 1)
            ret_lines.append(rows)
            ret_qty.append(q)
        R_o = O.iloc[ret].copy()
        R_o["day"], R_o["order_type"], R_o["orig"], R_o["origin"] = rday, "return", ret, "return"
        R_o["value"] = np.nan
        R_o["event"] = -1
        R_o["campaign_id"] = None
        R_o["full_return"] = full
        # Cancelled orders: extra orders, the same basket placed and cancelled the day of a real one.
        n_can = round(RATES["cancelled_orders"] / (1 - RATES["cancelled_orders"]) * n_sale)
        can = np.sort(rng.choice(n_sale, n_can, replace=False))
        C_o = O.iloc[can].copy()
        C_o["status"], C_o["origin"], C_o["event"], C_o["campaign_id"] = "cancelled", "cancelled", -1, None
        C_o["value"] = np.nan
        O["full_return"] = False
        C_o["full_return"] = False
        allO = pd.concat([O, R_o, C_o], ignore_index=True)
        # Lines of returns and cancellations.
        rl = np.concatenate(ret_lines) if ret_lines else np.array([], int)
        r_order = np.repeat(n_sale + np.arange(ret.size), [len(x) for x in ret_lines])
        RL = L.iloc[rl].copy()
        RL["order"] = r_order
        RL["qty"] = np.concatenate(ret_qty) if ret_qty else np.array([], int)
        c_rows = np.concatenate([np.arange(starts[k], starts[k + 1]) for k in can]) if n_can else np.array([], int)
        CL = L.iloc[c_rows].copy()
        CL["order"] = np.repeat(n_sale + ret.size + np.arange(n_can), starts[can + 1] - starts[can])
        allL = pd.concat([L, RL, CL], ignore_index=True)
        # Order numbers in date order; sales SO..., returns RE...
        tie = rng.random(len(allO))
        o_sorted = np.lexsort((tie, allO.day.to_numpy()))
        seq = np.empty(len(allO), int)
        seq[o_sorted] = np.arange(1, len(allO) + 1)
        prefix = np.where(allO.order_type.to_numpy() == "return", "RE", "SO")
        allO["order_id"] = [f"{a}{s:08d}" for a, s in zip(prefix, seq)]
        orig = allO.orig.to_numpy()
        allO["original_order_id"] = np.where(orig >= 0, allO.order_id.to_numpy()[np.maximum(orig, 0)], None)
        allO["customer_id"] = np.where(allO.record.to_numpy() >= 0,
                                       R.customer_id.to_numpy()[np.maximum(allO.record.to_numpy(), 0)], None)
        allO["true_day"] = allO.day
        allO["written_date"] = None  # set for planted date defects
        allO["defect"] = None
        allO = allO.iloc[o_sorted].reset_index(drop=True)
        remap = np.empty(len(o_sorted), int)
        remap[o_sorted] = np.arange(len(o_sorted))
        allL["order"] = remap[allL.order.to_numpy()]
        allL = allL.sort_values(["order", "line_no"], kind="stable").reset_index(drop=True)
        allL["line_no"] = allL.groupby("order").cumcount() + 1
        allL["defect"] = None
        self.O, self.L = allO, allL

    def _lines(self, value, is_dist, day) -> pd.DataFrame:
        """Fill each order with products so that it costs about ``value`` (vectorised).

        The value is split over 1-8 lines (distributors 2-15); each line takes the product
        whose price is nearest to its share divided by a number of units, and the quantity
        that brings the line closest to its share at the price paid.
        """
        rng = self.rng
        n = len(value)
        prods = self.products.sort_values("price", kind="stable").reset_index()
        price = prods.price.to_numpy()
        # Promotions: deeper and more frequent discounts on peak days; distributors pay 65% of list.
        disc_choice = np.array([1.0, 0.95, 0.9, 0.8])
        o_factor = np.where(self.season[day] > 1.4,
                            disc_choice[rng.choice(4, n, p=[0.2, 0.2, 0.3, 0.3])],
                            disc_choice[rng.choice(4, n, p=[0.6, 0.15, 0.15, 0.1])])
        o_factor[is_dist] = 0.65
        k = np.where(is_dist, 2 + rng.poisson(3, n), 1 + rng.poisson(0.5 + 0.25 * np.log1p(value / (100 * self.scale))))
        k = np.clip(k, 1, np.where(is_dist, 15, 8))
        order = np.repeat(np.arange(n), k)
        w = rng.exponential(1.0, order.size)
        lv = value[order] * w / np.bincount(order, weights=w, minlength=n)[order]  # line values
        units = np.where(is_dist[order], rng.choice([6, 12, 24, 48], order.size), 1 + rng.poisson(0.3, order.size))
        target = lv / units / o_factor[order] * np.exp(rng.normal(0, 0.3, order.size))  # list price sought
        hi = np.clip(np.searchsorted(price, target), 1, len(price) - 1)
        pi = np.where(np.log(price[hi] / target) < np.log(target / price[hi - 1]), hi, hi - 1)  # nearest price
        # The same product twice in an order becomes one line with both values.
        key, first, inverse = np.unique(order.astype(np.int64) * len(price) + pi, return_index=True,
                                        return_inverse=True)
        lv = np.bincount(inverse, weights=lv)
        order, pi = order[first], pi[first]
        unit_price = np.round(price[pi] * o_factor[order], 1 if self.zh else 2)  # CNY prices in jiao
        qty = np.maximum(1, np.round(lv / unit_price)).astype(int)
        line_no = np.arange(order.size) - np.searchsorted(order, order) + 1
        return pd.DataFrame({"order": order, "line_no": line_no, "product_id": prods.product_id.to_numpy()[pi],
                             "qty": qty, "unit_price": unit_price})

    # ---------------------------------------------------------------- service tickets
    def _tickets(self) -> None:
        rng, E, O, D = self.rng, self.E, self.O, self.D
        rows = []
        R = self.R
        # Complaints: after the purchase they are about.
        ce = E[E.complaint.to_numpy()]
        cday = np.minimum(D - 1, np.floor(ce.t.to_numpy()).astype(int) + rng.integers(1, 8, len(ce)))
        rows.append(pd.DataFrame({"person_idx": ce.person_idx.to_numpy(), "record": ce.record.to_numpy(),
                                  "day": cday, "ticket_type": "complaint"}))
        # Inquiries: Poisson over the customer's active time.
        P = self.P
        first = P.first_day.to_numpy()
        buyer = np.flatnonzero(first < D)
        endt = np.minimum(D - 1, np.nan_to_num(self.dropout[buyer], nan=D - 1) + 60)
        span = np.maximum(0, endt - first[buyer])
        k = rng.poisson(0.3 * span / 365.25)
        pi = np.repeat(buyer, k)
        iday = (np.repeat(first[buyer], k) + rng.random(pi.size) * np.repeat(span, k)).astype(int)
        rows.append(pd.DataFrame({"person_idx": pi, "record": self.rec_primary[pi], "day": iday,
                                  "ticket_type": "inquiry"}))
        # Returns: half of the returns with a customer number open a ticket.
        ro = O[(O.order_type == "return") & (O.record >= 0)]
        ro = ro[rng.random(len(ro)) < 0.5]
        rows.append(pd.DataFrame({"person_idx": ro.person_idx.to_numpy(), "record": ro.record.to_numpy(),
                                  "day": np.maximum(0, ro.day.to_numpy() - rng.integers(0, 3, len(ro))),
                                  "ticket_type": "return"}))
        T = pd.concat(rows, ignore_index=True)
        T = T.iloc[np.lexsort((rng.random(len(T)), T.day.to_numpy()))].reset_index(drop=True)
        n = len(T)
        T["ticket_id"] = [f"T{k + 1:07d}" for k in range(n)]
        T["customer_id"] = R.customer_id.to_numpy()[T.record.to_numpy()]
        T.loc[rng.random(n) < 0.03, "customer_id"] = None  # callers who were not identified
        tt = T.ticket_type.to_numpy()
        sat = np.select([tt == "complaint", tt == "inquiry"],
                        [rng.choice([1, 2, 3, 4], n, p=[0.35, 0.35, 0.2, 0.1]),
                         rng.choice([3, 4, 5], n, p=[0.2, 0.4, 0.4])],
                        rng.choice([2, 3, 4, 5], n, p=[0.15, 0.3, 0.35, 0.2]))
        T["satisfaction"] = pd.array(np.where(rng.random(n) < 0.2, np.nan, sat), dtype="Int64")
        T["resolved"] = rng.random(n) < np.select([tt == "complaint", tt == "inquiry"], [0.6, 0.95], 0.9)
        self.T = T

    # ---------------------------------------------------------------- order defects
    def _order_defects(self) -> None:
        """Plant future dates, bad prices, repeated lines and the corrupt rows to be rejected."""
        rng, O, L, D = self.rng, self.O, self.L, self.D
        L["order_id"] = O.order_id.to_numpy()[L.order.to_numpy()]
        O["junk"], L["junk"] = False, False
        # Orders dated in the future (after end_date): completed sales without a return.
        sale_ok = (O.order_type == "sale").to_numpy() & (O.status == "completed").to_numpy()
        cand = np.flatnonzero(sale_ok & O.customer_id.notna().to_numpy()
                              & ~O.order_id.isin(set(O.original_order_id.dropna())).to_numpy())
        fut = rng.choice(cand, max(1, round(RATES["future_dates"] * len(O))), replace=False)
        written, defect = O.written_date.to_numpy().copy(), O.defect.to_numpy().copy()
        written[fut] = [str(self.day_to_date(D - 1 + int(k))) for k in rng.integers(1, 366, fut.size)]
        defect[fut] = "future_order_date"
        O["written_date"], O["defect"] = written, defect
        # Lines of completed sales with a zero or negated price.
        lo = np.flatnonzero(sale_ok[L.order.to_numpy()])
        bad = rng.choice(lo, max(1, round(RATES["bad_price_lines"] * len(L))), replace=False)
        L["true_unit_price"] = L.unit_price
        up, ld = L.unit_price.to_numpy().copy(), L.defect.to_numpy().copy()
        up[bad] = np.where(rng.random(bad.size) < 0.5, 0.0, -up[bad])
        ld[bad] = np.where(up[bad] == 0, "zero_price", "negative_price")
        L["unit_price"], L["defect"] = up, ld
        # Repeated lines: the same line again right after it, with the next line number.
        rep = np.sort(rng.choice(np.setdiff1d(lo, bad), max(1, round(RATES["repeated_lines"] * len(L))),
                                 replace=False))
        copies = L.iloc[rep].copy()
        copies["defect"] = "repeated_line"
        pos = np.concatenate([np.arange(len(L), dtype=float), rep + 0.5])
        L = pd.concat([L, copies], ignore_index=True).iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)
        L["line_no"] = L.groupby("order").cumcount() + 1
        L["amount_text"] = None
        # Rows the loader must reject: extra corrupt rows that belong to no real purchase.
        kinds = ["nonexistent_date", "unparseable_date", "duplicate_order_id", "non_numeric_amount"]
        n_rej = max(4, round(RATES["reject_orders"] * len(O)))
        real_sales = np.flatnonzero(sale_ok)
        next_no = len(O) + 1  # numbers for the corrupt orders: after the last real one
        o_rows, o_pos, l_rows, l_pos = [], [], [], []
        line_end = np.searchsorted(L.order.to_numpy(), np.arange(len(O)), side="right")
        for j in range(n_rej):
            kind = kinds[j % 4]
            i = int(rng.choice(real_sales))
            if kind == "non_numeric_amount":  # an extra line on a real order
                last = line_end[i] - 1
                ln = L.iloc[last].copy()
                ln["line_no"] += 1
                ln["amount_text"], ln["defect"], ln["junk"] = "12,5O", "reject:non_numeric_amount", True
                l_rows.append(ln)
                l_pos.append(last + 0.5)
                continue
            row = O.iloc[i].copy()
            row["junk"], row["defect"], row["event"] = True, f"reject:{kind}", -1
            if kind == "duplicate_order_id":  # an earlier order's number on another customer's order
                other = O.iloc[int(rng.choice(real_sales))]
                row["customer_id"], row["day"], row["true_day"] = other.customer_id, other.day, other.day
                o_pos.append(i + 0.5 + int(rng.integers(0, 50)))
            else:
                y = pd.Timestamp(self.day_to_date(int(row.day))).year
                row["written_date"] = f"{y}-02-30" if kind == "nonexistent_date" else f"31/31/{y}"
                row["order_id"] = f"SO{next_no:08d}"
                next_no += 1
                o_pos.append(i + 0.5)
            o_rows.append(row)
        pos = np.concatenate([np.arange(len(O), dtype=float), o_pos])
        O = pd.concat([O, pd.DataFrame(o_rows)], ignore_index=True).iloc[np.argsort(pos, kind="stable")]
        pos = np.concatenate([np.arange(len(L), dtype=float), l_pos])
        L = pd.concat([L, pd.DataFrame(l_rows)], ignore_index=True).iloc[np.argsort(pos, kind="stable")]
        self.O, self.L = O.reset_index(drop=True), L.reset_index(drop=True)

    # ---------------------------------------------------------------- CRM delta export
    def _crm_update(self) -> None:
        """Pick ~3% of the exported CRM records and their new phone, address, e-mail or consent.

        The new values are kept as the CRM writes them; :meth:`_write_customers` puts them in
        the delta file and records each change in ``truth.record_changes``.
        """
        rng, R = self.rng, self.R
        exported = np.flatnonzero((R.source == "crm").to_numpy() & (R.signup_day.to_numpy() <= self.export_day))
        n_ch = round(RATES["crm_update"] * exported.size)
        ch = np.sort(rng.choice(exported, n_ch, replace=False))
        new_phone = self._phones(self.P.city_idx.to_numpy()[R.person_idx.to_numpy()[ch]])
        used = set(self.P.phone)
        new_address = self._addresses(n_ch)
        consent = R[["consent_mail", "consent_sms", "consent_email", "consent_phone"]].to_numpy()
        updated = {}
        for j, i in enumerate(ch):
            kinds = [k for k, pr in (("phone", 0.35), ("address", 0.35), ("email", 0.2), ("consent", 0.3))
                     if rng.random() < pr] or ["address"]
            new = {}
            if "phone" in kinds and new_phone[j] not in used:
                new["phone"] = new_phone[j] if self.zh else _us_phone(new_phone[j], "crm")
            if "address" in kinds:
                new["address"] = new_address[j]
            if "email" in kinds:
                new["email"] = (f"m{rng.integers(10**5, 10**7)}@qq.com" if self.zh
                                else f"mail{rng.integers(10**5, 10**7)}@gmail.com")
            if "consent" in kinds:
                k = int(rng.integers(4))
                old = consent[i, k]
                new[f"consent_{('mail', 'sms', 'email', 'phone')[k]}"] = "N" if old is not None and bool(old) else "Y"
            updated[int(i)] = new
        self.crm_updated = updated
        self.crm_changed_rows = ch

    # ---------------------------------------------------------------- do-not-contact list
    def _suppressions(self) -> None:
        """The do-not-contact list: a third of the people who complained asked not to be
        contacted (by customer number, all channels), 3% of the people with an e-mail
        unsubscribed (by address, e-mail only, written in upper case as some tools do), and
        an extract of a national do-not-call registry: 2% of the consumers' phones, written
        "+86 138 1234 5678" (calls only), and as many numbers of people who are not customers."""
        rng, P, D = self.rng, self.P, self.D
        n = self.n
        rows = []
        complainers = np.flatnonzero(self.complained)
        asked = np.sort(rng.choice(complainers, int(round(len(complainers) / 3)), replace=False)) if len(complainers) else complainers
        record_ids = self.R.customer_id.to_numpy()
        emails, phones = P.email.to_numpy(), P.phone.to_numpy()
        rows += [("complaint", int(p), record_ids[self.rec_primary[p]], None, None, None,
                  int(self.first_complaint[p]) if np.isfinite(self.first_complaint[p]) else D - 1) for p in asked]
        has_mail = np.flatnonzero(P.email.notna().to_numpy())
        unsub = np.sort(rng.choice(has_mail, int(round(0.03 * len(has_mail))), replace=False)) if len(has_mail) else has_mail
        rows += [("unsubscribe", int(p), None, None, str(emails[p]).upper(), "email", int(rng.integers(0, D)))
                 for p in unsub]
        consumers = np.flatnonzero((P.customer_type == "consumer").to_numpy() & P.phone.notna().to_numpy())
        reg = np.sort(rng.choice(consumers, int(round(0.02 * len(consumers))), replace=False))
        used = set(P.phone)
        strangers = [ph for ph in self._phones(P.city_idx.to_numpy()[rng.integers(0, n, len(reg))]) if ph not in used]

        def registry_format(ph):
            return f"+86 {ph[:3]} {ph[3:7]} {ph[7:]}" if self.zh and len(ph) == 11 else ph

        rows += [("registry", int(p), None, registry_format(phones[p]), None, "outbound_call",
                  int(rng.integers(0, D))) for p in reg]
        rows += [("registry", -1, None, registry_format(ph), None, "outbound_call", int(rng.integers(0, D)))
                 for ph in strangers]
        S = pd.DataFrame(rows, columns=["kind", "person_idx", "customer_id", "phone", "email", "channel", "day"])
        self.S = S.iloc[np.lexsort((rng.random(len(S)), S.day.to_numpy()))].reset_index(drop=True)

    # ---------------------------------------------------------------- e-mail test export
    def _email_test(self) -> None:
        """A customer-level e-mail test in the layout of the MineThatData e-mail test: a third
        each got the men's e-mail, the women's e-mail or no e-mail, at random. A visit in the
        two weeks after has a logistic probability that falls with months since the last
        purchase and rises with last year's spend and for new customers; the men's e-mail adds
        to it mainly for customers who bought men's merchandise, the women's e-mail for those
        who bought women's. A visit converts with a probability that the e-mails raise a
        little; spend given conversion is log-normal. The true probabilities of every row under
        each arm are in ``truth.email_test``."""
        rng = self.rng
        n = max(2000, int(round(3.2 * self.n)))
        recency = np.minimum(12, 1 + rng.geometric(0.17, n))
        history = np.round(np.maximum(29.99, rng.lognormal(5.1, 0.85, n)), 2)
        buys = rng.choice(3, n, p=[0.45, 0.45, 0.10])  # 0 mens only, 1 womens only, 2 both
        mens, womens = (buys != 1).astype(int), (buys != 0).astype(int)
        zip_code = rng.choice(["Urban", "Suburban", "Rural"], n, p=[0.40, 0.45, 0.15])
        newbie = (rng.random(n) < 0.5).astype(int)
        channel = rng.choice(["Phone", "Web", "Multichannel"], n, p=[0.44, 0.44, 0.12])
        arm = rng.choice(len(EMAIL_ARMS), n)
        base = -1.62 - 0.09 * recency + 0.25 * np.log(history / 250) + 0.25 * newbie + 0.15 * (zip_code == "Rural")
        lift = {0: 0.75 * mens + 0.15 * (1 - mens), 1: 0.55 * womens + 0.10 * (1 - womens), 2: 0.0}
        conv = {0: -2.5, 1: -2.67, 2: -2.74}  # logit of P(conversion | visit) per arm
        p_visit = {a: 1 / (1 + np.exp(-(base + lift[a]))) for a in lift}
        p_conv = {a: p_visit[a] / (1 + np.exp(-(conv[a] + 0.3 * np.log(history / 250)))) for a in lift}
        visit = rng.random(n) < np.choose(arm, [p_visit[0], p_visit[1], p_visit[2]])
        p_buy = np.choose(arm, [p_conv[a] / p_visit[a] for a in (0, 1, 2)])
        conversion = visit & (rng.random(n) < p_buy)
        spend = np.where(conversion, np.round(rng.lognormal(4.55, 0.55, n), 2), 0.0)
        labels = np.array([label for _, _, label in EMAIL_HISTORY_SEGMENTS])
        cuts = np.array([lo for lo, _, _ in EMAIL_HISTORY_SEGMENTS[1:]])
        self.email_test = pd.DataFrame({
            "recency": recency, "history_segment": labels[np.searchsorted(cuts, history, side="right")],
            "history": history, "mens": mens, "womens": womens, "zip_code": zip_code, "newbie": newbie,
            "channel": channel, "segment": np.array(EMAIL_ARMS)[arm], "visit": visit.astype(int),
            "conversion": conversion.astype(int), "spend": spend})
        self.email_truth = pd.DataFrame({
            "line": np.arange(2, n + 2), "arm": np.array(EMAIL_ARMS)[arm],
            **{f"p_visit_{k}": p_visit[a].round(6) for a, k in enumerate(("mens", "womens", "none"))},
            **{f"p_conversion_{k}": p_conv[a].round(6) for a, k in enumerate(("mens", "womens", "none"))}})

    # ---------------------------------------------------------------- writing the files
    def write_files(self, out: Path) -> None:
        self.files: dict[str, int] = {}
        self.customer_lines: dict[int, tuple[str, int]] = {}  # record row -> (first file, line)
        self.update_lines: dict[int, int] = {}  # record row -> line in the CRM delta
        self.record_rejects: list[dict] = []
        self._write_customers(out)
        self._write_products(out)
        self._write_orders(out)
        self._write_campaigns(out)
        self._write_tickets(out)
        self._write_cities(out)
        self._write_suppressions(out)
        self.email_test.to_csv(out / FILES["email_test"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["email_test"]] = len(self.email_test)
        _write_yaml(out / "sources.yaml", sources_config(self.locale, self.end_date, base_dir=str(out)))

    def _customer_frame(self, rows: np.ndarray, layout: str) -> pd.DataFrame:
        """Customer records in a system's own layout and formats (all values as text)."""
        R = self.R.iloc[rows]
        zh = self.zh
        if layout == "crm":
            f = pd.DataFrame({
                "customer_id": R.customer_id.to_numpy(), "name": R.name.to_numpy(),
                "gender": R.gender.map({"M": "male", "F": "female"}).to_numpy(),
                "birth_date": _fmt_dt(R.birth.to_numpy(), "%Y-%m-%d"), "id_number": R.id_number.to_numpy(),
                "phone": R.phone.to_numpy(), "email": R.email.to_numpy(), "province": R.province.to_numpy(),
                "city": R.city.to_numpy(), "address": R.address.to_numpy(),
                "signup_date": self.fmt_dates(R.signup_day.to_numpy()),
                "signup_channel": R.signup_channel.to_numpy(),
            })
            for k in ("mail", "sms", "email", "phone"):
                f[f"consent_{k}"] = _yes_no(R[f"consent_{k}"].to_numpy(), "Y", "N")
            f = f.rename(columns=CRM_COLUMNS)
            f[CRM_EXTRA] = R.member_level.to_numpy()
            return f
        if layout == "pos":
            yes, no = ("是", "否") if zh else ("Y", "N")
            bfmt, sfmt = ("%Y%m%d", "%Y/%m/%d") if zh else ("%m/%d/%Y", "%m/%d/%Y")
            f = pd.DataFrame({
                "customer_id": R.customer_id.to_numpy(), "name": R.name.to_numpy(),
                "gender": R.gender.map({"M": "男", "F": "女"} if zh else {"M": "M", "F": "F"}).to_numpy(),
                "birth_date": _fmt_dt(R.birth.to_numpy(), bfmt), "id_number": R.id_number.to_numpy(),
                "phone": R.phone.to_numpy(), "email": R.email.to_numpy(), "province": R.province.to_numpy(),
                "city": R.city.to_numpy(), "address": R.address.to_numpy(),
                "signup_date": self.fmt_dates(R.signup_day.to_numpy(), sfmt),
                "consent_sms": _yes_no(R.consent_sms.to_numpy(), yes, no),
                "consent_phone": _yes_no(R.consent_phone.to_numpy(), yes, no),
            })
            f = f.rename(columns=POS_COLUMNS[self.locale])
            f.insert(11, POS_EXTRA[self.locale], R.home_store.to_numpy())
            return f
        raise ValueError(layout)

    def _write_customers(self, out: Path) -> None:
        rng, R = self.rng, self.R
        src = R.source.to_numpy()
        sid = R.signup_day.to_numpy()
        # CRM master as exported two months before the end, with rows missing their number.
        crm_rows = np.flatnonzero((src == "crm") & (sid <= self.export_day))
        crm_rows = crm_rows[np.argsort(R.customer_id.to_numpy()[crm_rows], kind="stable")]
        crm = self._customer_frame(crm_rows, "crm")
        crm["_row"] = crm_rows
        n_missing = max(2, self.n // 10_000)
        junk = crm.iloc[rng.choice(len(crm), n_missing, replace=False)].copy()
        junk[CRM_COLUMNS["customer_id"]] = None
        junk["_row"] = -1
        crm = _insert_rows(crm, junk, rng)
        self._write_csv(crm, out, "crm_customers", "utf-8-sig", "\n", reject_kind="missing_customer_id")
        # The CRM delta: changed rows in full (unchanged fields exactly as before), then new sign-ups.
        ch = self.crm_changed_rows
        upd = self._customer_frame(ch, "crm")
        changes = []
        for j, i in enumerate(ch):
            for col, value in self.crm_updated[int(i)].items():
                old = upd.at[j, CRM_COLUMNS[col]]
                old = old if isinstance(old, str) else None
                if value != old:
                    upd.at[j, CRM_COLUMNS[col]] = value
                    changes.append((R.customer_id.iat[i], col, old, value))
        self.crm_changes = pd.DataFrame(changes, columns=["customer_id", "column_name", "old_value", "new_value"])
        new_rows = np.flatnonzero((src == "crm") & (sid > self.export_day))
        new_rows = new_rows[np.argsort(R.customer_id.to_numpy()[new_rows], kind="stable")]
        newf = self._customer_frame(new_rows, "crm")
        upd["_row"] = ch
        newf["_row"] = new_rows
        self._write_csv(pd.concat([upd, newf], ignore_index=True), out, "crm_customers_update", "utf-8-sig", "\n")
        # The legacy POS member list: GBK, Windows line ends.
        pos_rows = np.flatnonzero(src == "pos")
        pos_rows = pos_rows[np.argsort(R.customer_id.to_numpy()[pos_rows], kind="stable")]
        pos = self._customer_frame(pos_rows, "pos")
        pos["_row"] = pos_rows
        junk = pos.iloc[rng.choice(len(pos), 1)].copy()
        junk[POS_COLUMNS[self.locale]["customer_id"]] = None
        junk["_row"] = -1
        pos = _insert_rows(pos, junk, rng)
        self._write_csv(pos, out, "pos_members", "gbk" if self.zh else "utf-8", "\r\n",
                        reject_kind="missing_customer_id")
        # Distributors: an Excel workbook kept by the sales team.
        d_rows = np.flatnonzero(src == "distributor")
        d_rows = d_rows[np.argsort(R.customer_id.to_numpy()[d_rows], kind="stable")]
        D_ = R.iloc[d_rows]
        cols = DIST_COLUMNS[self.locale]
        header = [cols["customer_id"], cols["name"], DIST_EXTRA[self.locale], cols["phone"], cols["email"],
                  cols["province"], cols["city"], cols["address"], cols["signup_date"]]
        data = [[v if isinstance(v, str) else None for v in
                 (r.customer_id, r.name, r.contact_name, r.phone, r.email, r.province, r.city, r.address)]
                + [pd.Timestamp(self.day_to_date(int(r.signup_day))).to_pydatetime()]
                for r in D_.itertuples()]
        _write_xlsx(out / FILES["distributors"], DIST_SHEET[self.locale], header, data, self.end_date)
        self.files[FILES["distributors"]] = len(data)
        for k, i in enumerate(d_rows):
            self.customer_lines[i] = (FILES["distributors"], k + 2)

    def _write_csv(self, f: pd.DataFrame, out: Path, name: str, encoding: str, eol: str,
                   reject_kind: str | None = None) -> None:
        """Write one customer file and remember the line of every record (header = line 1)."""
        fname = FILES[name]
        rows = f.pop("_row").to_numpy()
        for line, r in enumerate(rows, start=2):
            if r >= 0:
                self.customer_lines.setdefault(int(r), (fname, line))
                if name == "crm_customers_update":
                    self.update_lines[int(r)] = line
            else:
                self.record_rejects.append({"file": fname, "line": line, "defect": f"reject:{reject_kind}"})
        f.to_csv(out / fname, index=False, encoding=encoding, lineterminator=eol)
        self.files[fname] = len(f)

    def _write_products(self, out: Path) -> None:
        f = self.products.rename(columns=PRODUCT_COLUMNS)
        f.to_csv(out / FILES["products"], index=False, encoding="utf-8", lineterminator="\n", float_format="%.2f")
        self.files[FILES["products"]] = len(f)

    def _write_orders(self, out: Path) -> None:
        O, L = self.O, self.L
        date = np.where(O.written_date.isna().to_numpy(), self.fmt_dates(O.day.to_numpy()), O.written_date.to_numpy())
        city = self.cities.city.to_numpy()[O.city_idx.to_numpy()]
        f = pd.DataFrame({
            "order_id": O.order_id.to_numpy(), "customer_id": O.customer_id.to_numpy(), "order_date": date,
            "channel": O.channel.map(ORDER_CHANNEL_CODES).to_numpy(),
            "order_type": O.order_type.map(ORDER_TYPE_CODES).to_numpy(),
            "status": O.status.map(ORDER_STATUS_CODES).to_numpy(),
            "original_order_id": O.original_order_id.to_numpy(), "city": city,
        }).rename(columns=ORDER_COLUMNS)
        f.to_csv(out / FILES["orders"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["orders"]] = len(f)
        amount = np.round(L.qty.to_numpy() * L.unit_price.to_numpy(), 2)
        amount_s = np.char.mod("%.2f", amount).astype(object)
        amt_txt = L.amount_text.to_numpy()
        amount_s = np.where(pd.isna(amt_txt), amount_s, amt_txt)
        lf = pd.DataFrame({
            "order_id": L.order_id.to_numpy(), "line_no": L.line_no.to_numpy(), "product_id": L.product_id.to_numpy(),
            "quantity": L.qty.to_numpy(), "unit_price": np.char.mod("%.2f", L.unit_price.to_numpy()).astype(object),
            "amount": amount_s,
        }).rename(columns=LINE_COLUMNS)
        lf.to_csv(out / FILES["order_lines"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["order_lines"]] = len(lf)
        self.L["amount"] = amount

    def _write_campaigns(self, out: Path) -> None:
        C = self.campaigns
        labels = CHANNEL_LABELS[self.locale]
        f = pd.DataFrame({
            "campaign_id": C.campaign_id, "campaign_name": C.campaign_name,
            "channel": C.channel.map(labels), "start_date": self.fmt_dates(C.start_day.to_numpy()),
            "end_date": self.fmt_dates(C.end_day.to_numpy()), "response_window_days": C.window,
            "cost_per_contact": C.cost_per_contact.map("{:.2f}".format), "offer": C.offer,
        }).rename(columns=CAMPAIGN_COLUMNS)
        f.to_csv(out / FILES["campaigns"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["campaigns"]] = len(f)
        X = self.responses
        cf = pd.DataFrame({
            "campaign_id": X.campaign_id.to_numpy(),
            "customer_id": self.R.customer_id.to_numpy()[X.record.to_numpy()],
            "cell": np.where(X.cell.to_numpy() == "test", "T", "C"),
            "contact_date": self.fmt_dates(X.contact_day.to_numpy()),
        }).rename(columns=CONTACT_COLUMNS)
        cf.to_csv(out / FILES["contacts"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["contacts"]] = len(cf)

    def _write_tickets(self, out: Path) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        T = self.T
        types = TICKET_TYPES[self.locale]
        table = pa.table({
            TICKET_COLUMNS["ticket_id"]: pa.array(T.ticket_id.to_list(), pa.string()),
            TICKET_COLUMNS["customer_id"]: pa.array(T.customer_id.to_list(), pa.string(), from_pandas=True),
            TICKET_COLUMNS["opened_date"]: pa.array(self.day_to_date(T.day.to_numpy()), pa.date32()),
            TICKET_COLUMNS["ticket_type"]: pa.array([types[t] for t in T.ticket_type], pa.string()),
            TICKET_COLUMNS["satisfaction"]: pa.Array.from_pandas(T.satisfaction).cast(pa.int32()),
            TICKET_COLUMNS["resolved"]: pa.array(T.resolved.to_list(), pa.bool_()),
        })
        pq.write_table(table, out / FILES["service_tickets"])
        self.files[FILES["service_tickets"]] = table.num_rows

    def _write_suppressions(self, out: Path) -> None:
        S = self.S
        labels = CHANNEL_LABELS[self.locale]
        f = pd.DataFrame({
            "customer_id": S.customer_id, "phone": S.phone, "email": S.email,
            "channel": S.channel.map(labels, na_action="ignore"),
            "reason": [SUPPRESSION_REASONS[k][self.locale] for k in S.kind],
            "added_date": self.fmt_dates(S.day.to_numpy())}).rename(columns=SUPPRESSION_COLUMNS)
        f.to_csv(out / FILES["do_not_contact"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["do_not_contact"]] = len(f)

    def _write_cities(self, out: Path) -> None:
        c = self.cities
        f = pd.DataFrame({"city": c.city, "city_en": c.city_en, "province": c.province, "city_tier": c.tier,
                          "population_m": c.population_m, "income_index": c.income_index})
        f = f.rename(columns=CITY_COLUMNS[self.locale])
        f.to_csv(out / FILES["cities"], index=False, encoding="utf-8", lineterminator="\n")
        self.files[FILES["cities"]] = len(f)

    # ---------------------------------------------------------------- truth
    def dates(self, days) -> list:
        """Day numbers as ``datetime.date`` (None where NaN): DuckDB stores them as DATE."""
        days = np.asarray(days, dtype=float)
        ok = np.isfinite(days)
        d = self.start + np.where(ok, days, 0).astype("int64").astype("timedelta64[D]")
        return list(np.where(ok, d, np.datetime64("NaT")).astype("datetime64[D]").astype(object))

    def truth_tables(self) -> dict[str, pd.DataFrame]:
        """The planted ground truth as DataFrames (what :meth:`write_truth` stores)."""
        if hasattr(self, "_truth"):
            return self._truth
        P, R, O, L, D = self.P, self.R, self.O, self.L, self.D
        # Realised purchases: completed sales of identified customers, true dates and prices.
        real = O[~O.junk & (O.order_type == "sale") & (O.status == "completed") & (O.person_idx >= 0)]
        Lr = L[~L.junk & (L.defect != "repeated_line")]
        line_value = Lr.qty * Lr.true_unit_price
        gross = line_value.groupby(Lr.order_id).sum()
        ret = O[~O.junk & (O.order_type == "return")]
        returned = -gross.reindex(ret.order_id).fillna(0).groupby(ret.original_order_id.to_numpy()).sum()
        purchases = pd.DataFrame({
            "order_id": real.order_id.to_numpy(), "person_id": real.person_idx.to_numpy() + 1,
            "customer_id": real.customer_id.to_numpy(), "order_date": self.dates(real.true_day),
            "origin": real.origin.to_numpy(), "campaign_id": real.campaign_id.to_numpy(),
            "spend_drawn": real.value.round(2).to_numpy(),  # the gamma-gamma draw z the basket was built for
            "gross_amount": gross.reindex(real.order_id).fillna(0).round(2).to_numpy(),
            "returned_amount": returned.reindex(real.order_id).fillna(0).round(2).to_numpy(),
        })
        purchases["net_amount"] = (purchases.gross_amount - purchases.returned_amount).round(2)
        day = real.true_day.to_numpy()
        per = purchases.assign(day=day).groupby("person_id").agg(
            n=("order_id", "size"), net=("net_amount", "sum"), first=("day", "min"), last=("day", "max"))
        per_proc = purchases[purchases.origin == "process"].groupby("person_id").size()
        pid = P.person_id
        dist = (P.customer_type == "distributor").to_numpy()
        c = self.cities
        persons = pd.DataFrame({
            "person_id": pid, "customer_type": P.customer_type, "true_name": P.name,
            "contact_name": np.where(dist, P.contact_name, None),
            "gender": P.gender, "birth_date": pd.to_datetime(P.birth).dt.date,
            "id_number": P.id18, "phone": P.phone, "email": P.email,
            "city": c.city.to_numpy()[P.city_idx], "province": c.province.to_numpy()[P.city_idx],
            "address": P.address, "signup_date": self.dates(P.signup_day),
            "first_record_source": P.primary_source, "is_prospect": P.prospect,
            "first_purchase_date": self.dates(per["first"].reindex(pid)),
            "last_purchase_date": self.dates(per["last"].reindex(pid)),
            "lambda_per_week": P.lam, "p_dropout": P.pdrop, "nu_spend": P.nu,
            "mean_order_value": (np.where(dist, DISTRIBUTOR_PARAMS.p, CONSUMER_PARAMS.p) / P.nu).round(2),
            "alive_at_end": np.isnan(self.dropout) & (P.first_day.to_numpy() < D),
            "dropout_date": self.dates(self.dropout),
            "complained": self.complained, "first_complaint_date": self.dates(self.first_complaint),
            "n_purchases": per.n.reindex(pid).fillna(0).astype(int).to_numpy(),
            "n_process_purchases": per_proc.reindex(pid).fillna(0).astype(int).to_numpy(),
            "net_revenue": per.net.reindex(pid).fillna(0).round(2).to_numpy(),
            "consent_mail": P.consent_mail, "consent_sms": P.consent_sms,
            "consent_email": P.consent_email, "consent_phone": P.consent_phone,
        })
        rows = range(len(R))
        records = pd.DataFrame({
            "customer_id": R.customer_id, "source_system": R.source,
            "source_file": [self.customer_lines[i][0] for i in rows],
            "source_line": pd.array([self.customer_lines[i][1] for i in rows], dtype="Int64"),
            "update_line": pd.array([self.update_lines.get(i) for i in rows], dtype="Int64"),
            "person_id": R.person_idx + 1, "is_duplicate": R.is_duplicate,
            "signup_date": self.dates(R.signup_day), "defects": [list(d) for d in R.defects],
        })
        # Campaign responses, measured as the matchback would: a completed purchase by the
        # person (under any of her numbers) in the window; and under the contacted number only.
        X = self.responses
        cust = R.customer_id.to_numpy()[X.record.to_numpy()]
        m = pd.DataFrame({"k": np.arange(len(X)), "person_id": X.person_idx.to_numpy() + 1, "cust": cust,
                          "d0": X.contact_day.to_numpy(), "w": X.window.to_numpy()}).merge(
            pd.DataFrame({"person_id": purchases.person_id, "bought_as": purchases.customer_id, "day": day}),
            on="person_id")
        hit = ((m.day >= m.d0) & (m.day < m.d0 + m.w)).to_numpy()
        responded = np.zeros(len(X), bool)
        responded[m.k.to_numpy()[hit]] = True
        responded_id = np.zeros(len(X), bool)
        responded_id[m.k.to_numpy()[hit & (m.bought_as == m.cust).to_numpy()]] = True
        campaign_response = pd.DataFrame({
            "campaign_id": X.campaign_id, "customer_id": cust, "person_id": X.person_idx + 1, "cell": X.cell,
            "contact_date": self.dates(X.contact_day), "response_window_days": X.window,
            "had_consent": X.consent, "alive_at_contact": X.alive_at_contact, "sleeping_dog": X.sleeping_dog,
            "p_background": X.p_background.round(6), "q_campaign": X.q_campaign.round(6),
            "p_without_contact": X.p_without_contact.round(6), "p_with_contact": X.p_with_contact.round(6),
            "uplift": X.uplift.round(6), "responded": responded, "responded_same_id": responded_id,
        })
        truth = {"persons": persons, "customer_records": records, "purchases": purchases,
                 "campaign_response": campaign_response, "defects": self._defect_table(),
                 "suppressions": pd.DataFrame({
                     "line": np.arange(2, len(self.S) + 2), "kind": self.S.kind,
                     "person_id": pd.Series(self.S.person_idx + 1, dtype="Int64").where(self.S.person_idx >= 0),
                     "channel": self.S.channel}),
                 "email_test": self.email_truth,
                 "record_changes": self.crm_changes.assign(effective_date=self.end_date),
                 "seasonality": pd.DataFrame({"date": self.dates(np.arange(D)), "factor": self.season.round(6)})}
        truth["parameters"] = self._parameters(truth)
        self._truth = truth
        return truth

    def _defect_table(self) -> pd.DataFrame:
        """Every planted defect: table, file, record key, line (header = line 1), kind, detail."""
        rows = []
        R = self.R
        first_id = R.customer_id.to_numpy()[self.rec_primary]
        for i, (cid, ds, dup, p) in enumerate(zip(R.customer_id, R.defects, R.is_duplicate, R.person_idx)):
            f, ln = self.customer_lines[i]
            if dup:
                rows.append(("customers", f, cid, ln, "duplicate_record",
                             f"second record of person {p + 1} (first record {first_id[p]})", False))
            for d in ds:
                rows.append(("customers", f, cid, ln, d, None, False))
        for r in self.record_rejects:
            rows.append(("customers", r["file"], None, r["line"], "missing_customer_id",
                         "extra copy of another record with the customer number left empty", True))
        reject_detail = {"nonexistent_date": "order_date {} does not exist",
                         "unparseable_date": "order_date {} cannot be parsed",
                         "duplicate_order_id": "order number already used by an earlier row (that one is genuine)"}
        O = self.O
        for line, (oid, cid, d, wd, td, junk) in enumerate(
                zip(O.order_id, O.customer_id, O.defect, O.written_date, O.true_day, O.junk), start=2):
            if not isinstance(cid, str) and not junk:
                rows.append(("orders", FILES["orders"], oid, line, "anonymous_order",
                             "no customer number (walk-in sale)", False))
            if not isinstance(d, str):
                continue
            if d == "future_order_date":
                rows.append(("orders", FILES["orders"], oid, line, d,
                             f"written {wd}, true date {self.dates([td])[0]}", False))
            else:
                kind = d.split(":", 1)[1]
                rows.append(("orders", FILES["orders"], oid, line, kind, reject_detail[kind].format(wd), True))
        line_detail = {"zero_price": "unit price 0 (true price in truth.purchases)",
                       "negative_price": "unit price negated", "repeated_line": "identical to the line before",
                       "reject:non_numeric_amount": "line_amount 12,5O is not a number (extra corrupt line)"}
        L = self.L
        for line, (oid, ln, d) in enumerate(zip(L.order_id, L.line_no, L.defect), start=2):
            if isinstance(d, str):
                rows.append(("order_lines", FILES["order_lines"], f"{oid}/{ln}", line, d.removeprefix("reject:"),
                             line_detail[d], d.startswith("reject:")))
        df = pd.DataFrame(rows, columns=["table_name", "source_file", "record_key", "source_line", "defect",
                                         "detail", "should_reject"])
        df["source_line"] = df.source_line.astype("Int64")
        return df

    def _parameters(self, truth) -> pd.DataFrame:
        rows = []
        for prefix, pp in (("consumer", CONSUMER_PARAMS), ("distributor", DISTRIBUTOR_PARAMS)):
            for k in ("r", "alpha", "a", "b", "p", "q", "gamma"):
                v = getattr(pp, k) * (self.scale if k == "gamma" else 1.0)
                model = "BG/NBD, weeks" if k in ("r", "alpha", "a", "b") else "gamma-gamma"
                rows.append((f"{prefix}_{k}", float(v), f"planted {k} ({model})"))
        for k, v in RATES.items():
            if k in MODEL_RATES:
                rows.append((k, float(v), "planted model parameter"))
            else:
                rows.append((f"target_{k}", float(v), "target rate (compare the measured *_share rows)"))
        for k, v in self.measured_rates(truth).items():
            rows.append((k, float(v), "measured in the generated data"))
        for k, v in (("n_customers", self.n), ("years", self.years), ("seed", self.seed),
                     ("season_max", self.season.max()), ("season_min", self.season.min())):
            rows.append((k, float(v), "run setting" if k in ("n_customers", "years", "seed") else "seasonality"))
        for _, c in self.campaigns.iterrows():
            rows.append((f"{c.campaign_id}_q_intercept", float(c.q_intercept), f"logit intercept of q ({c.channel})"))
            rows.append((f"{c.campaign_id}_control_share", float(c.control_share), "control share drawn"))
        return pd.DataFrame(rows, columns=["name", "value", "description"])

    def measured_rates(self, truth=None) -> dict[str, float]:
        if hasattr(self, "_rates"):
            return self._rates
        truth = truth or self.truth_tables()
        P, R, O, L = self.P, self.R, self.O, self.L
        real = O[~O.junk]
        sales = real[real.order_type == "sale"]
        consumer = P.customer_type == "consumer"
        persons = truth["persons"]
        idn = R.id_number.dropna()
        id18 = idn[idn.str.len() == 18]
        defects = truth["defects"]
        per_rec = pd.Series([d for ds in R.defects for d in ds]).value_counts()
        email_n = R.email.notna().sum()
        rev = persons.loc[persons.n_purchases > 0, "net_revenue"].to_numpy()
        rev_c = persons.loc[(persons.n_purchases > 0) & (persons.customer_type == "consumer"), "net_revenue"].to_numpy()
        cr = truth["campaign_response"]
        rates = {
            "duplicate_share": (R.groupby("person_idx").size() > 1).mean(),
            "prospect_share": float((persons.n_purchases[consumer.to_numpy()] == 0).mean()),
            "distributor_share": float((~consumer).mean()),
            "legacy_id15_share": float((idn.str.len() == 15).mean()) if len(idn) else 0.0,
            "id_mismatch_share": float((per_rec.get("id_birth_mismatch", 0) + per_rec.get("id_gender_mismatch", 0))
                                       / max(1, len(id18))),
            "id_bad_check_share": float(per_rec.get("id_bad_check_digit", 0) / max(1, len(id18))),
            "invalid_phone_share": float(per_rec.get("invalid_phone", 0) / len(R)),
            "email_typo_share": float(per_rec.get("email_domain_typo", 0) / max(1, email_n)),
            "place_variant_share": float(per_rec.get("place_variant", 0) / len(R)),
            "anonymous_order_share": float(real.customer_id.isna().mean()),
            "cancelled_share": float((sales.status == "cancelled").mean()),
            "return_share": float((real.order_type == "return").sum() / (sales.status == "completed").sum()),
            "future_date_share": float((defects.defect == "future_order_date").sum() / len(O)),
            "bad_price_line_share": float(defects.defect.isin(["zero_price", "negative_price"]).sum() / len(L)),
            "repeated_line_share": float((defects.defect == "repeated_line").sum() / len(L)),
            "reject_order_share": float((defects.should_reject & (defects.table_name != "customers")).sum() / len(O)),
            "complained_share": float(persons.complained[persons.n_purchases > 0].mean()),
            "dropped_out_share": float(persons.dropout_date.notna()[persons.n_purchases > 0].mean()),
            "distributor_revenue_share": float(persons.net_revenue[~consumer.to_numpy()].sum()
                                               / persons.net_revenue.sum()),
            "top20_revenue_share": _top_share(rev, 0.2),
            "top20_revenue_share_consumers": _top_share(rev_c, 0.2),
            "crm_update_share": float(len(self.crm_changed_rows)
                                      / max(1, ((R.source == "crm") & (R.signup_day <= self.export_day)).sum())),
            "mean_uplift": float(cr.uplift.mean()),
            "control_share": float((cr.cell == "control").mean()),
            "customer_rejects": float(len(self.record_rejects)),
        }
        self._rates = {k: round(float(v), 6) for k, v in rates.items()}
        return self._rates

    def write_truth(self, db_path) -> None:
        from dbmarketing import warehouse

        truth = self.truth_tables()
        con = warehouse.connect(db_path)
        try:
            con.execute("BEGIN")
            con.execute("DROP SCHEMA IF EXISTS truth CASCADE")
            con.execute("DELETE FROM main.catalog WHERE table_schema = 'truth'")
            con.execute("DELETE FROM main.catalog_tables WHERE table_schema = 'truth'")
            con.execute("CREATE SCHEMA truth")
            for name, df in truth.items():
                con.register("_truth_df", df)
                con.execute(f'CREATE TABLE truth."{name}" AS SELECT * FROM _truth_df')
                con.unregister("_truth_df")
                types = con.execute(
                    "SELECT column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = 'truth' AND table_name = ? ORDER BY ordinal_position", [name]).fetchall()
                desc, col_desc = TRUTH_TABLES.get(name, ("", {}))
                missing = [c for c, _ in types if c not in col_desc]
                if not desc or missing:
                    raise ValueError(f"truth.{name}: describe the table and its column(s) "
                                     f"{', '.join(missing) or '(none)'} in sample.TRUTH_TABLES (the catalog needs them)")
                cols = [warehouse.Column(c, t, *col_desc[c]) for c, t in types]
                warehouse.register_table(con, "truth", name, cols, desc, layer="truth", origin="internal")
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def summary(self, out: Path, db_path) -> SampleSummary:
        rates = self.measured_rates()
        P = self.P
        real = self.O[~self.O.junk]
        return SampleSummary(
            out_dir=str(out), db_path=None if db_path is None else str(db_path), locale=self.locale,
            seed=self.seed, start_date=self.start_date, end_date=self.end_date, files=dict(self.files),
            persons=self.n, distributors=int((P.customer_type == "distributor").sum()),
            customer_records=len(self.R), orders=len(real), order_lines=int((~self.L.junk).sum()),
            campaigns=len(self.campaigns), contacts=len(self.responses), service_tickets=len(self.T),
            rates=rates, top20_revenue_share=rates["top20_revenue_share"],
        )


_HI, _PR, _HP = 2, 3, 4  # deep-public, private, highly private tiers (see dbmarketing.warehouse)
# Every column of every truth table: (description, privacy tier). Columns that also exist in
# the customer information model take the model's tier (gender and consents 2, birth date 3).
TRUTH_TABLES = {
    "persons": ("Planted people: true attributes and purchase-process parameters.", {
        "person_id": ("Person number (the duplicate cluster)", 1),
        "customer_type": ("consumer or distributor", 1),
        "true_name": ("True name", _PR),
        "contact_name": ("Contact person of a distributor", _PR),
        "gender": ("True gender, M or F", _HI),
        "birth_date": ("True birth date", _PR),
        "id_number": ("True 18-digit resident ID number", _HP),
        "phone": ("True phone (digits)", _PR), "email": ("True e-mail", _PR),
        "city": ("True city", 1), "province": ("True province", 1),
        "address": ("True street address", _PR),
        "signup_date": ("Date the person first registered", 1),
        "first_record_source": ("Source system of the person's first customer record (crm, pos, distributor)", 1),
        "is_prospect": ("Registered but never buys (a potential customer)", 1),
        "first_purchase_date": ("Date of the first completed purchase; empty if none", 1),
        "last_purchase_date": ("Date of the last completed purchase; empty if none", 1),
        "lambda_per_week": ("BG/NBD purchase rate while alive, per week", 1),
        "p_dropout": ("BG/NBD dropout probability after each repeat purchase", 1),
        "nu_spend": ("Gamma-gamma scale: mean order value = p / nu", 1),
        "mean_order_value": ("True mean order value p / nu of the gamma-gamma spend process", 1),
        "alive_at_end": ("Still active (not dropped out) at the end of the history", 1),
        "dropout_date": ("Date of the purchase after which the person dropped out; empty if alive", 1),
        "complained": ("Complained at least once (raises the dropout probability)", 1),
        "first_complaint_date": ("Date of the first complaint; empty if none", 1),
        "n_purchases": ("Completed purchases, all origins", 1),
        "n_process_purchases": ("Completed purchases from the BG/NBD process (not caused by a campaign)", 1),
        "net_revenue": ("Revenue of the completed purchases net of returns, at true prices", 1),
        "consent_mail": ("True consent to direct mail", _HI), "consent_sms": ("True consent to SMS", _HI),
        "consent_email": ("True consent to e-mail", _HI), "consent_phone": ("True consent to calls", _HI),
    }),
    "customer_records": ("Every customer record in the sources and the person behind it.", {
        "customer_id": ("Customer number as in the source", 1),
        "source_system": ("System the record is in (crm, pos, distributor)", 1),
        "source_file": ("File the record first appears in", 1),
        "source_line": ("Line in the first file the record appears in (header = line 1)", 1),
        "update_line": ("Line in crm_customers_update.csv if the record is there", 1),
        "person_id": ("Person behind the record (records of one person = one duplicate cluster)", 1),
        "is_duplicate": ("A further record of a person who has an earlier one", 1),
        "signup_date": ("Signup date of this record", 1),
        "defects": ("Planted defects of this record", 1),
    }),
    "purchases": ("Completed sales of identified customers with their true dates and amounts.", {
        "order_id": ("Order number", 1), "person_id": ("Person who bought", 1),
        "customer_id": ("Customer number the order was booked under", 1),
        "order_date": ("True order date (before any planted date defect)", 1),
        "origin": ("process (BG/NBD) or campaign (caused by a contact)", 1),
        "campaign_id": ("Campaign that caused the purchase; empty for process purchases", 1),
        "spend_drawn": ("The gamma-gamma order value z the basket was filled for", 1),
        "gross_amount": ("Realised order total at the true prices", 1),
        "returned_amount": ("Value of the returns against this order", 1),
        "net_amount": ("gross_amount - returned_amount", 1),
    }),
    "campaign_response": ("Per contact: true response probabilities without and with contact.", {
        "campaign_id": ("Campaign code", 1), "customer_id": ("Customer number selected", 1),
        "person_id": ("Person behind the customer number", 1),
        "cell": ("test (contacted) or control (held out)", 1),
        "contact_date": ("Date of contact (planned date for control)", 1),
        "response_window_days": ("Days after contact in which a purchase counts as a response", 1),
        "had_consent": ("The selected customer record showed consent to the campaign's channel", 1),
        "alive_at_contact": ("The person had not dropped out by the contact date", 1),
        "sleeping_dog": ("A contact puts this person off buying (negative uplift)", 1),
        "p_background": ("P(purchase in window) from the purchase process alone", 1),
        "q_campaign": ("P(extra purchase caused by the contact)", 1),
        "p_without_contact": ("P(response) if not contacted = p_background", 1),
        "p_with_contact": ("P(response) if contacted", 1),
        "uplift": ("p_with_contact - p_without_contact", 1),
        "responded": ("Any completed purchase by the person in the window", 1),
        "responded_same_id": ("A completed purchase under the contacted customer number in the window", 1),
    }),
    "suppressions": ("Every entry of do_not_contact.csv and the person it refers to.", {
        "line": ("Line in do_not_contact.csv (header = line 1)", 1),
        "kind": ("complaint (by customer number), unsubscribe (by e-mail) or registry (by phone)", 1),
        "person_id": ("Person the entry refers to; empty for registry numbers of people who are not customers", 1),
        "channel": ("Channel the entry applies to; empty = every channel", 1),
    }),
    "email_test": ("Per row of email_test.csv: the arm drawn and the true probabilities under each arm.", {
        "line": ("Line in email_test.csv (header = line 1)", 1),
        "arm": ("Arm the customer was assigned to", 1),
        "p_visit_mens": ("P(visit) with the men's e-mail", 1), "p_visit_womens": ("P(visit) with the women's e-mail", 1),
        "p_visit_none": ("P(visit) without e-mail", 1),
        "p_conversion_mens": ("P(conversion) with the men's e-mail", 1),
        "p_conversion_womens": ("P(conversion) with the women's e-mail", 1),
        "p_conversion_none": ("P(conversion) without e-mail", 1),
    }),
    "defects": ("Every planted data defect, including the rows the loader must reject.", {
        "table_name": ("Model table of the defective record", 1),
        "source_file": ("File holding the record", 1),
        "record_key": ("Customer or order number of the record (empty if the defect is a missing number)", 1),
        "source_line": ("Line in the file (header = line 1; Excel: sheet row)", 1),
        "defect": ("Kind of defect planted", 1),
        "detail": ("What exactly was planted", 1),
        "should_reject": ("The loader must reject this row", 1),
    }),
    "parameters": ("Planted parameters, target rates and the rates measured in the data.", {
        "name": ("Parameter or rate", 1), "value": ("Its value", 1), "description": ("What it means", 1)}),
    "record_changes": ("Changes in crm_customers_update.csv against crm_customers.csv.", {
        "customer_id": ("Customer number", 1), "column_name": ("Attribute that changed", 1),
        "old_value": ("Value before", _PR), "new_value": ("Value after", _PR),
        "effective_date": ("Date the change is effective (the update export's date)", 1)}),
    "seasonality": ("Daily seasonal factor of the purchase rate (mean 1).", {
        "date": ("Day", 1), "factor": ("Multiplier of the purchase rate on that day", 1)}),
}


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------

def _price_point(x: float, zh: bool) -> float:
    """A shop price: 9.9, 39, 199 ... (CNY) or 4.99, 19.99 (USD)."""
    if zh:
        if x < 20:
            return round(max(1.9, round(x) - 0.1), 2)
        return float(max(19, int(round(x / 10.0)) * 10 - 1))
    return round(max(0.99, round(x) - 0.01), 2)


def _us_phone(digits: str, system: str) -> str:
    """A 10-digit US number as a system writes it: 212-555-0134 (CRM) or (212) 555-0134 (POS)."""
    d = digits
    return f"({d[:3]}) {d[3:6]}-{d[6:]}" if system == "pos" else f"{d[:3]}-{d[3:6]}-{d[6:]}"


def _format_iso(iso: np.ndarray, ok: np.ndarray, fmt: str) -> np.ndarray:
    """ISO date strings re-formatted (%Y-%m-%d, %Y%m%d, %Y/%m/%d or %m/%d/%Y); None where not ok."""
    iso = iso.astype(str)
    y = np.array([s[:4] for s in iso], dtype=object)
    m = np.array([s[5:7] for s in iso], dtype=object)
    d = np.array([s[8:10] for s in iso], dtype=object)
    if fmt == "%Y-%m-%d":
        out = iso.astype(object)
    elif fmt == "%Y%m%d":
        out = y + m + d
    elif fmt == "%Y/%m/%d":
        out = y + "/" + m + "/" + d
    elif fmt == "%m/%d/%Y":
        out = m + "/" + d + "/" + y
    else:
        raise ValueError(fmt)
    return np.where(ok, out, None)


def _fmt_dt(values: np.ndarray, fmt: str) -> np.ndarray:
    values = np.asarray(values, dtype="datetime64[D]")
    ok = ~np.isnat(values)
    iso = np.datetime_as_string(np.where(ok, values, np.datetime64("2000-01-01")), unit="D")
    return _format_iso(iso, ok, fmt)


def _yes_no(values, yes: str, no: str) -> np.ndarray:
    return np.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else (yes if v else no)
                     for v in values], dtype=object)


def _insert_rows(f: pd.DataFrame, extra: pd.DataFrame, rng) -> pd.DataFrame:
    """Insert rows at random places (after a random existing row)."""
    pos = np.concatenate([np.arange(len(f), dtype=float), rng.integers(0, len(f), len(extra)) + 0.5])
    both = pd.concat([f, extra], ignore_index=True)
    return both.iloc[np.argsort(pos, kind="stable")].reset_index(drop=True)


def _top_share(values: np.ndarray, top: float) -> float:
    """Share of the total brought by the top ``top`` fraction of the values."""
    v = np.sort(np.asarray(values, float))[::-1]
    if v.size == 0 or v.sum() <= 0:
        return 0.0
    k = max(1, int(round(top * v.size)))
    return float(v[:k].sum() / v.sum())


def _campaign_name(d, label: str, zh: bool) -> str:
    d = pd.Timestamp(d)
    season = {12: 1, 1: 1, 2: 1, 3: 2, 4: 2, 5: 2, 6: 3, 7: 3, 8: 3, 9: 4, 10: 4, 11: 4}[d.month]
    if zh:
        return f"{d.year}年{['冬季', '春季', '夏季', '秋季'][season - 1]}会员{label}"
    return f"{['Winter', 'Spring', 'Summer', 'Fall'][season - 1]} {d.year} member {label.lower()}"


def _write_xlsx(path: Path, sheet: str, header: list[str], rows: list[list], stamp: date) -> None:
    """Write a one-sheet workbook reproducibly (fixed document times and zip entry times)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header)
    for r in rows:
        ws.append(r)
    for cell in ws[1]:
        cell.number_format = "@"
    for row in ws.iter_rows(min_row=2, min_col=len(header), max_col=len(header)):
        row[0].number_format = "yyyy-mm-dd"
    fixed = datetime(stamp.year, stamp.month, stamp.day)
    wb.properties.creator = "dbmarketing sample"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    # openpyxl stamps the save time into docProps/core.xml and the zip entries: replace both.
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>",
                              b"<dcterms:modified\\1>" + fixed.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                              + b"</dcterms:modified>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = info.external_attr
            dst.writestr(zi, data)


def _write_yaml(path: Path, config: dict) -> None:
    import yaml

    class NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    text = yaml.dump(config, Dumper=NoAliases, allow_unicode=True, sort_keys=False, default_flow_style=False)
    path.write_text("# Column map of the sample files (written by dbmarketing.sample.generate)\n" + text,
                    encoding="utf-8")
