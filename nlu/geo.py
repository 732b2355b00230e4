"""Chinese places as company names carry them: provinces, cities (with their province) and districts.

A name's region decides two things: what a rep may leave out (无锡市惠山区思创电子 → 思创电子),
and when a mention is another company (宁波新港物流 is not 苏州华港物流). Cities know their
province so that 广东嘉利 still fits 佛山市南海区嘉利陶瓷.
"""

from __future__ import annotations

PROVINCE, CITY, DISTRICT = 0, 1, 2

PROVINCES = (
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 广东 海南 "
    "四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
).split()

# Prefecture-level and notable county-level cities, grouped by province.
_CITIES_BY_PROVINCE = {
    "河北": "石家庄 唐山 秦皇岛 邯郸 邢台 保定 张家口 承德 沧州 廊坊 衡水 雄安 定州 辛集 任丘 三河",
    "山西": "太原 大同 阳泉 长治 晋城 朔州 晋中 运城 忻州 临汾 吕梁",
    "内蒙古": "呼和浩特 包头 乌海 赤峰 通辽 鄂尔多斯 呼伦贝尔 巴彦淖尔 乌兰察布 锡林郭勒 满洲里",
    "辽宁": "沈阳 大连 鞍山 抚顺 本溪 丹东 锦州 营口 阜新 辽阳 盘锦 铁岭 朝阳 葫芦岛",
    "吉林": "长春 吉林 四平 辽源 通化 白山 松原 白城 延边 延吉",
    "黑龙江": "哈尔滨 齐齐哈尔 鸡西 鹤岗 双鸭山 大庆 伊春 佳木斯 七台河 牡丹江 黑河 绥化",
    "江苏": "南京 无锡 徐州 常州 苏州 南通 连云港 淮安 盐城 扬州 镇江 泰州 宿迁 昆山 江阴 张家港 常熟 "
    "太仓 宜兴 溧阳 丹阳 靖江 海门 启东 如皋 吴江",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水 义乌 慈溪 余姚 瑞安 乐清 诸暨 海宁 "
    "桐乡 永康 东阳 温岭 临海 平湖",
    "安徽": "合肥 芜湖 蚌埠 淮南 马鞍山 淮北 铜陵 安庆 黄山 滁州 阜阳 宿州 六安 亳州 池州 宣城",
    "福建": "福州 厦门 莆田 三明 泉州 漳州 南平 龙岩 宁德 晋江 石狮 福清",
    "江西": "南昌 景德镇 萍乡 九江 新余 鹰潭 赣州 吉安 宜春 抚州 上饶",
    "山东": "济南 青岛 淄博 枣庄 东营 烟台 潍坊 济宁 泰安 威海 日照 临沂 德州 聊城 滨州 菏泽 寿光 龙口 即墨 胶州",
    "河南": "郑州 开封 洛阳 平顶山 安阳 鹤壁 新乡 焦作 濮阳 许昌 漯河 三门峡 南阳 商丘 信阳 周口 驻马店 济源",
    "湖北": "武汉 黄石 十堰 宜昌 襄阳 鄂州 荆门 孝感 荆州 黄冈 咸宁 随州 恩施 仙桃 潜江 天门",
    "湖南": "长沙 株洲 湘潭 衡阳 邵阳 岳阳 常德 张家界 益阳 郴州 永州 怀化 娄底 湘西 浏阳",
    "广东": "广州 韶关 深圳 珠海 汕头 佛山 江门 湛江 茂名 肇庆 惠州 梅州 汕尾 河源 阳江 清远 东莞 中山 "
    "潮州 揭阳 云浮 顺德",
    "广西": "南宁 柳州 桂林 梧州 北海 防城港 钦州 贵港 玉林 百色 贺州 河池 来宾 崇左",
    "海南": "海口 三亚 三沙 儋州 琼海 文昌 万宁",
    "四川": "成都 自贡 攀枝花 泸州 德阳 绵阳 广元 遂宁 内江 乐山 南充 眉山 宜宾 广安 达州 雅安 巴中 资阳 "
    "阿坝 甘孜 凉山 西昌",
    "贵州": "贵阳 六盘水 遵义 安顺 毕节 铜仁 黔东南 黔南 黔西南 凯里",
    "云南": "昆明 曲靖 玉溪 保山 昭通 丽江 普洱 临沧 楚雄 红河 文山 西双版纳 大理 德宏 怒江 迪庆",
    "西藏": "拉萨 日喀则 昌都 林芝 山南 那曲 阿里",
    "陕西": "西安 铜川 宝鸡 咸阳 渭南 延安 汉中 榆林 安康 商洛",
    "甘肃": "兰州 嘉峪关 金昌 白银 天水 武威 张掖 平凉 酒泉 庆阳 定西 陇南 临夏 甘南",
    "青海": "西宁 海东 海西 格尔木",
    "宁夏": "银川 石嘴山 吴忠 固原 中卫",
    "新疆": "乌鲁木齐 克拉玛依 吐鲁番 哈密 昌吉 博尔塔拉 巴音郭楞 阿克苏 克孜勒苏 喀什 和田 伊犁 塔城 阿勒泰 "
    "石河子 库尔勒",
}

# Districts and counties that company names carry without their 区/县 (宁波北仑瀚海, 浙江安吉竹韵).
# Names with the suffix written (武进区, 长安镇) are recognised by their suffix instead.
DISTRICTS = (
    "朝阳 海淀 东城 西城 丰台 石景山 通州 顺义 昌平 大兴 房山 门头沟 怀柔 平谷 密云 延庆 亦庄 中关村 "
    "浦东 浦西 黄浦 徐汇 长宁 静安 普陀 虹口 杨浦 闵行 宝山 嘉定 金山 松江 青浦 奉贤 崇明 张江 漕河泾 临港 "
    "滨海 和平 河西 南开 河东 河北 红桥 东丽 西青 津南 北辰 武清 宝坻 宁河 静海 蓟州 "
    "渝中 江北 南岸 九龙坡 沙坪坝 大渡口 渝北 巴南 北碚 两江 涪陵 万州 永川 江津 合川 "
    "天河 越秀 海珠 荔湾 白云 黄埔 番禺 花都 南沙 从化 增城 "
    "福田 罗湖 南山 宝安 龙岗 龙华 坪山 光明 盐田 前海 "
    "禅城 南海 三水 高明 "
    "长安 虎门 厚街 常平 塘厦 松山湖 樟木头 "
    "西湖 上城 拱墅 滨江 萧山 余杭 临平 富阳 临安 桐庐 淳安 建德 "
    "海曙 江北 北仑 镇海 鄞州 奉化 象山 宁海 "
    "鹿城 龙湾 瓯海 洞头 永嘉 苍南 平阳 文成 泰顺 "
    "越城 柯桥 上虞 新昌 嵊州 "
    "椒江 黄岩 路桥 玉环 天台 仙居 三门 "
    "南湖 秀洲 嘉善 海盐 "
    "吴兴 南浔 德清 长兴 安吉 "
    "婺城 金东 武义 浦江 磐安 "
    "玄武 秦淮 建邺 鼓楼 浦口 栖霞 雨花台 江宁 六合 溧水 高淳 "
    "姑苏 虎丘 吴中 相城 "
    "梁溪 锡山 惠山 滨湖 新吴 "
    "天宁 钟楼 新北 武进 金坛 "
    "崇川 通州 海安 如东 "
    "江都 邗江 广陵 高邮 仪征 "
    "京口 润州 丹徒 句容 扬中 "
    "历下 市中 槐荫 天桥 历城 长清 章丘 莱芜 "
    "市南 市北 李沧 崂山 黄岛 城阳 西海岸 平度 莱西 "
    "芝罘 福山 莱山 牟平 蓬莱 招远 莱州 "
    "江岸 江汉 硚口 汉阳 武昌 青山 洪山 东西湖 汉南 蔡甸 江夏 黄陂 新洲 光谷 "
    "芙蓉 天心 岳麓 开福 雨花 望城 长沙县 宁乡 "
    "锦江 青羊 金牛 武侯 成华 龙泉驿 青白江 新都 温江 双流 郫都 高新 天府 "
    "新城 碑林 莲湖 灞桥 未央 雁塔 阎良 临潼 长安 高陵 鄠邑 曲江 "
    "中原 二七 管城 金水 上街 惠济 郑东 "
    "瑶海 庐阳 蜀山 包河 肥东 肥西 长丰 庐江 巢湖 "
    "鼓楼 台江 仓山 马尾 晋安 长乐 闽侯 "
    "思明 海沧 湖里 集美 同安 翔安 "
    "鲤城 丰泽 洛江 泉港 南安 惠安 安溪 德化 "
    "和平 沈河 大东 皇姑 铁西 苏家屯 浑南 沈北 于洪 "
    "中山 西岗 沙河口 甘井子 旅顺口 金州 普兰店 瓦房店 "
    "南岗 道里 道外 香坊 平房 松北 呼兰 "
    "东湖 西湖 青云谱 青山湖 新建 红谷滩 "
    "龙华 美兰 秀英 琼山 "
    "五华 盘龙 官渡 西山 呈贡 "
    "南明 云岩 花溪 乌当 白云 观山湖 "
    "青秀 兴宁 江南 西乡塘 良庆 邕宁 "
    "城关 七里河 西固 安宁 "
    "新市 天山 沙依巴克 水磨沟 头屯河 米东 "
    "昆都仑 青山 东河 九原 "
    "回民 玉泉 赛罕 "
    "兴庆 金凤 西夏"
).split()

MACRO_REGIONS = "华东 华南 华北 华中 西南 西北 东北 中原 江南 岭南 苏南 苏北 浙南 浙北 粤港澳 长三角 珠三角".split()

CITY_PROVINCE: dict[str, str] = {
    city: province for province, cities in _CITIES_BY_PROVINCE.items() for city in cities.split()
}
CITIES = tuple(CITY_PROVINCE)

# What may follow a place's name in a company name (江苏省, 常州市, 武进区, 长安镇, 两江新区).
PROVINCE_SUFFIXES = ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市")
CITY_SUFFIXES = ("自治州", "地区", "市", "州", "盟")
DISTRICT_SUFFIXES = (
    "经济技术开发区",
    "经济开发区",
    "高新技术产业开发区",
    "高新技术开发区",
    "高新区",
    "开发区",
    "工业园区",
    "工业园",
    "保税区",
    "自贸区",
    "新区",
    "市",
    "区",
    "县",
    "镇",
    "乡",
    "旗",
)
# A zone named by its suffix alone right after a city (苏州工业园区).
BARE_ZONES = ("工业园区", "高新区", "开发区", "经济开发区", "经济技术开发区", "保税区", "自贸区", "新区")

# Places as their pinyin, for names like "Nordlicht Optics (Suzhou)".
PINYIN_PLACES = {
    "beijing": "北京",
    "shanghai": "上海",
    "tianjin": "天津",
    "chongqing": "重庆",
    "shenzhen": "深圳",
    "guangzhou": "广州",
    "suzhou": "苏州",
    "hangzhou": "杭州",
    "ningbo": "宁波",
    "nanjing": "南京",
    "wuxi": "无锡",
    "xiamen": "厦门",
    "qingdao": "青岛",
    "chengdu": "成都",
    "wuhan": "武汉",
    "dalian": "大连",
    "dongguan": "东莞",
    "foshan": "佛山",
    "xian": "西安",
    "hongkong": "香港",
    "china": "",
}


def level_of(place: str) -> int | None:
    """PROVINCE, CITY or DISTRICT for a bare place name we know; None otherwise."""
    if place in _PROVINCE_SET:
        return PROVINCE
    if place in CITY_PROVINCE:
        return CITY
    if place in _DISTRICT_SET:
        return DISTRICT
    return None


_PROVINCE_SET = frozenset(PROVINCES)
_DISTRICT_SET = frozenset(DISTRICTS)
ALL_PLACES = frozenset(PROVINCES) | frozenset(CITY_PROVINCE) | _DISTRICT_SET | frozenset(MACRO_REGIONS)


def written_forms() -> dict[str, str]:
    """Every way a known place is written in front of a name (江苏, 江苏省, 常州市, 北仑区) → the place."""
    forms: dict[str, str] = {}
    for place in PROVINCES:
        forms[place] = place
        for suffix in PROVINCE_SUFFIXES:
            forms.setdefault(place + suffix, place)
    for place in CITY_PROVINCE:
        forms.setdefault(place, place)
        for suffix in CITY_SUFFIXES + DISTRICT_SUFFIXES:  # 吴江区, 顺德区: cities that became districts
            forms.setdefault(place + suffix, place)
    for place in DISTRICTS:
        forms.setdefault(place, place)
        for suffix in DISTRICT_SUFFIXES:
            forms.setdefault(place + suffix, place)
    for place in MACRO_REGIONS:
        forms.setdefault(place, place)
    return forms


def conflicts(written: str, known: dict[str, int]) -> bool:
    """Whether a place written before a name says it is another company than one in ``known``.

    ``known`` maps the company's places to their levels. A place of a level the company has must be
    one of its places; a city must lie in the company's province; a province must hold its city.
    A district we cannot place (the company names none) says nothing.
    """
    if written in known or not known:
        return False
    level = level_of(written)
    same = [p for p, lv in known.items() if lv == level]
    if level is not None and same:
        return True
    provinces = {p for p, lv in known.items() if lv == PROVINCE}
    cities = {p for p, lv in known.items() if lv == CITY}
    if level == CITY:
        return bool(provinces) and CITY_PROVINCE.get(written) not in provinces
    if level == PROVINCE:
        return bool(cities) and not any(CITY_PROVINCE.get(c) == written for c in cities)
    return False
