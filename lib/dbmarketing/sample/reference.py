"""Reference data of the synthetic retailer's world: places, products, names, e-mail domains
and resident ID numbers (GB 11643-1999).

Province names, the assigned mobile prefixes and the ID check-digit weights and characters are
:mod:`dbmarketing.cleanse`'s (the one definition the cleaning checks against); the sample
keeps what is its own: its cities with their illustrative figures and the order it draws in.
"""

from __future__ import annotations

import numpy as np

from .. import cleanse

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

# Province short name -> (official name, pinyin): cleanse's provinces that hold a city above.
PROVINCES_CN = {p: cleanse.PROVINCES[p] for p in dict.fromkeys(c[2] for c in CITIES_CN)}

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

# The mobile prefixes the sample draws from, in the order it draws: cleanse's assigned prefixes
# without the ones few consumers hold (data cards 145-149, virtual operators 162, 165, 167, 170,
# 171, satellite 174) and the rarer newer ones (172, 190, 192, 193, 195-197).
MOBILE_PREFIXES = sorted(cleanse.MOBILE_PREFIXES - {
    "145", "146", "147", "148", "149", "162", "165", "167", "170", "171", "172", "174",
    "190", "192", "193", "195", "196", "197"})
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
GIVEN_FIRST = "子梓雨思欣佳嘉浩俊志文晓宇家一诗明天海建永国春秀玉丽晨安若可"
GIVEN_MALE = "轩然航杰明豪博远佑哲睿泽宏毅诚翔康晨昊嘉铭鸿彦峻"
GIVEN_FEMALE = "涵萱怡琪雅静婷欣悦诗梦瑶璐佳雨思晓雪莉薇蕾婉琳妍颖"


def id_check_digit(body17: list[str] | np.ndarray) -> np.ndarray:
    """ISO 7064 MOD 11-2 check characters ('0'-'9' or 'X') for 17-digit ID bodies."""
    body17 = list(body17)
    if not body17:
        return np.array([], dtype=object)
    digits = np.frombuffer("".join(body17).encode("ascii"), dtype=np.uint8).reshape(-1, 17) - 48
    total = digits.astype(np.int64) @ np.array(cleanse.ID_WEIGHTS)
    return np.array(list(cleanse.ID_CHECK), dtype=object)[total % 11]


def id15_from_id18(id18: str) -> str:
    """The legacy 15-digit number: the 18-digit one without century and check digit."""
    return id18[:6] + id18[8:17]


_FULLWIDTH = {i: i + 0xFEE0 for i in range(0x21, 0x7F)}


def to_fullwidth(s: str) -> str:
    """Turn ASCII letters, digits and punctuation into their full-width forms (ＡＢＣ１２３)."""
    return s.translate(_FULLWIDTH)

