"""Words for bench/desk_seed.py: residents' names, streets, and what complaints to a
housing association are about, so that the seeded mails read like real ones and a
full-text index over them sees a realistic vocabulary (common words in most mails,
topic words in some, rare words in few)."""

from __future__ import annotations

import random


def _words(text: str, underscores_are_spaces: bool = False) -> list[str]:
    words = text.split()
    return [word.replace("_", " ") for word in words] if underscores_are_spaces else words


FIRST_NAMES = _words(
    """
Aaliyah Abdul Adam Adebayo Agnieszka Ahmed Aisha Alan Alex Alice Amanda Amara Amelia Amir Amy Andrew
Angela Anita Ann Anthony Arjun Ayesha Barbara Ben Bernadette Beverley Bilal Bogdan Brenda Bridget
Callum Carl Carol Caroline Catherine Ceri Charlotte Chioma Chloe Chris Claire Colin Connor Craig
Daniel Darren Dawn Dean Deborah Declan Denise Derek Diane Dominika Donna Dylan Ebony Eilidh Eleanor
Elizabeth Emeka Emily Emma Eric Fatima Fiona Frances Gareth Gary Gemma Gillian Grace Graham Hannah
Harpreet Harry Hassan Hayley Helen Ian Ibrahim Imran Irene Isaac Jack Jacqueline Jake James Jamie
Jan Jane Janet Jasmine Jason Jean Jennifer Joanne John Jordan Joseph Julie Kamala Karen Kate
Katarzyna Kathleen Kayleigh Keith Kelly Kerry Kevin Kieran Kirsty Kwame Laura Lauren Leah Lee Leanne
Liam Linda Lisa Lorraine Louise Lucy Lynne Magdalena Maria Mark Marlon Martin Mary Mateusz Matthew
Maureen Megan Mehmet Michael Michelle Mohammed Molly Natalie Neil Nicola Niamh Nigel Nisha Noor
Oliver Olumide Omar Owen Pamela Patricia Patrick Paul Paula Pauline Peter Philip Precious Priya
Rachel Rajesh Rebecca Rhys Richard Rita Robert Rosa Ryan Sadia Samantha Samuel Sandra Sarah Scott
Sean Shabana Sharon Shauna Sheila Sian Simon Sophie Stacey Stephen Steven Stuart Susan Tanisha Tariq
Teresa Thomas Tina Tomasz Tony Tracey Tyrone Valerie Vanessa Victoria Wayne Wendy William Yasmin
Yusuf Zainab Zoe Zofia
"""
)

SURNAMES = _words(
    """
Abbott Adeyemi Ahmed Ali Allen Anderson Armstrong Atkinson Bailey Baker Banks Barker Barnes Begum
Bell Bennett Berry Bibi Bird Bishop Black Booth Bowen Bradley Brooks Brown Burns Butler Campbell
Carr Carter Chapman Chaudhry Clarke Cole Collins Cook Cooper Cox Cunningham Davies Dawson Dixon
Doherty Douglas Duffy Edwards Ellis Evans Farrell Fisher Fletcher Foster Fox Gallagher Gibson Gill
Gordon Graham Grant Gray Green Griffiths Hall Hamilton Harris Harrison Hart Hill Holmes Hughes Hunt
Hussain Iqbal Jackson James Jenkins Johnson Johnston Jones Kaur Kelly Kennedy Khan King Knight
Kowalski Lawrence Lee Lewis Lloyd Malik Marshall Martin Mason Matthews McCarthy McDonald Miah Mills
Mitchell Moore Morgan Morris Murphy Murray Nowak Nwosu Okafor Oliver Osei Owen Palmer Parker Patel
Pearson Phillips Powell Price Rahman Reid Reynolds Richards Richardson Riley Roberts Robertson
Robinson Rogers Rose Russell Ryan Saunders Scott Shah Sharma Shaw Simpson Singh Smith Spencer
Stevens Stewart Sullivan Taylor Thomas Thompson Turner Walker Walsh Ward Watson Webb Wells White
Williams Wilson Wood Wright Young
"""
)

STREETS = _words(
    """
Acacia_Road Albert_Street Alder_Close Ash_Grove Beech_Avenue Birch_Court Bridge_Street Brook_Lane
Canal_Side Castle_View Cedar_Walk Chapel_Row Church_Lane Clifton_Road Coronation_Street Dale_View
Elm_Drive Fern_Bank Forge_Lane Garden_Terrace Glebe_Close Granby_Street Hawthorn_Way Hazel_Mount
Highfield_Road Holly_Court Jubilee_Crescent Kings_Road Larch_Close Lime_Street Linden_Avenue
Manor_Way Maple_Rise Market_Street Meadow_View Mill_Lane Moor_Road Newlands_Drive Oak_Tree_Close
Orchard_Way Park_Road Priory_Walk Queens_Drive Railway_Terrace Rowan_Court School_Lane
Springfield_Road Station_Road Sycamore_Grove Tower_Court Union_Street Vale_Road Victoria_Terrace
Water_Lane Wellington_Road Willow_Close Windmill_Hill York_Street
""",
    underscores_are_spaces=True,
)

TOWNS = [
    ("Leeds", "LS"),
    ("Bradford", "BD"),
    ("Wakefield", "WF"),
    ("Halifax", "HX"),
    ("Huddersfield", "HD"),
    ("Sheffield", "S"),
    ("Rotherham", "S"),
    ("Doncaster", "DN"),
    ("Barnsley", "S"),
    ("York", "YO"),
    ("Harrogate", "HG"),
    ("Hull", "HU"),
    ("Scunthorpe", "DN"),
    ("Lincoln", "LN"),
    ("Manchester", "M"),
    ("Salford", "M"),
    ("Oldham", "OL"),
    ("Rochdale", "OL"),
    ("Bolton", "BL"),
    ("Wigan", "WN"),
]

# The team: ten officers and a manager (desk accounts and staff rows are made for each).
OFFICERS = [
    ("Amelia Hughes", "amelia.hughes@landlord.example"),
    ("Daniel Osei", "daniel.osei@landlord.example"),
    ("Priya Raman", "priya.raman@landlord.example"),
    ("Tom Fairbairn", "tom.fairbairn@landlord.example"),
    ("Grace Mwangi", "grace.mwangi@landlord.example"),
    ("Liam Doherty", "liam.doherty@landlord.example"),
    ("Sophie Clarke", "sophie.clarke@landlord.example"),
    ("Yusuf Karim", "yusuf.karim@landlord.example"),
    ("Hannah Lewis", "hannah.lewis@landlord.example"),
    ("Marek Nowicki", "marek.nowicki@landlord.example"),
]
MANAGER = ("Sarah Okonkwo", "sarah.okonkwo@landlord.example")
INBOX = ("Jade Whitfield", "jade.whitfield@landlord.example")
RECORDS = ("Colin Barraclough", "colin.barraclough@landlord.example")
ADMIN = ("Ravi Menon", "ravi.menon@landlord.example")

ROOMS = [
    "bathroom", "kitchen", "back bedroom", "front bedroom", "box room", "living room", "hallway",
    "landing", "stairwell", "loft", "utility room", "toilet", "airing cupboard", "porch",
]  # fmt: skip
PEOPLE = [
    "the contractor", "your surveyor", "the repairs team", "the housing officer", "the call centre",
    "the plumber", "the electrician", "the caretaker", "the estate manager", "your operative",
    "the gas engineer", "the scaffolders", "the neighbourhood officer", "customer services",
]  # fmt: skip
WHEN = [
    "last Tuesday", "on Monday morning", "three weeks ago", "in September", "over the weekend",
    "before Christmas", "at the end of last month", "on the 14th", "twice this month", "since the spring",
    "a fortnight ago", "yesterday afternoon", "on Friday", "at half term", "in the summer",
]  # fmt: skip
NUMBERS = ["two", "three", "four", "five", "six", "eight", "ten", "twelve"]

# (weight in thousandths, name, subject templates, sentence templates). {room}, {who}, {when},
# {n} are filled in; every topic has its own words so a search for one finds some mails, not all.
TOPICS: list[tuple[int, str, list[str], list[str]]] = [
    (
        180,
        "damp",
        [
            "Black mould in the {room}",
            "Damp and mould in my flat, reported {n} times",
            "Mould coming back in the {room}",
            "Condensation and damp - children are ill",
            "Damp survey never happened",
        ],
        [
            "The mould in the {room} has come back again and it is spreading across the ceiling.",
            "There is black mould behind the wardrobe and my clothes smell of damp.",
            "Condensation runs down the windows every morning and the sills are rotting.",
            "My son has asthma and the GP says the damp is making it worse.",
            "{who} wiped the mould with bleach {when} but did nothing about the cause.",
            "The extractor fan in the {room} has not worked for {n} months.",
            "The plaster is wet to the touch and the wallpaper is peeling off.",
            "You promised a damp survey {when} and nobody has been in touch since.",
            "I have had to throw away a mattress and a sofa because of the mould.",
            "The dehumidifier you lent us costs a fortune to run and the damp is still there.",
            "Awaab's law says you must act quickly on damp and mould hazards like this.",
            "Rising damp is lifting the skirting boards in the {room}.",
        ],
    ),
    (
        80,
        "leak",
        [
            "Water coming through the ceiling",
            "Leaking roof at my property",
            "Leak from the flat above into my {room}",
            "Gutters overflowing, water pouring down the wall",
        ],
        [
            "Water is coming through the light fitting in the {room} every time it rains.",
            "The roof has been leaking since {when} and there are buckets all over the landing.",
            "The flat above has a leak and it is dripping into my {room}.",
            "The gutters are blocked and water pours down the outside wall.",
            "{who} said the roofer would come {when} but nobody turned up.",
            "The ceiling is bowing and I am frightened it will collapse.",
            "The stopcock does not turn off fully so I cannot stop the leak myself.",
            "The carpet in the {room} is soaked and has started to smell.",
        ],
    ),
    (
        100,
        "heating",
        [
            "No heating or hot water",
            "Boiler broken down again",
            "Radiators cold for {n} weeks",
            "Heating not fixed - elderly tenant",
        ],
        [
            "The boiler keeps losing pressure and we have had no heating for {n} days.",
            "We have no hot water and I am boiling kettles to wash the children.",
            "The radiators in the {room} stay cold even with the thermostat on full.",
            "{who} came {when} but did not have the part and nobody has been back.",
            "My mother is eighty-four and the flat is freezing at night.",
            "The electric heaters you gave us are costing us a fortune in electricity.",
            "The gas safety check was done but the engineer said the boiler is condemned.",
            "The heating timer is broken so the boiler only runs when I press override.",
        ],
    ),
    (
        150,
        "repairs",
        [
            "Repair not done after {n} months",
            "Missed repair appointment",
            "Repairs reported but never completed",
            "Complaint about the repairs service",
            "Job closed without the work being done",
        ],
        [
            "I reported this repair {n} months ago and it is still not done.",
            "I took a day off work and {who} never turned up, nobody rang to say.",
            "The job was marked as complete on your system but nothing was fixed.",
            "Every time I ring I am given a new job number and told to wait.",
            "{who} said it needed a different trade and would be booked in, it never was.",
            "The kitchen cupboard doors are hanging off and the worktop is split.",
            "The back door does not lock properly and I do not feel safe.",
            "I have been passed between departments and nobody takes responsibility.",
            "The appointment was cancelled {when} without any explanation.",
            "The bath panel was taken off {when} and has been left in the {room} ever since.",
        ],
    ),
    (
        80,
        "asb",
        [
            "Noise from neighbours every night",
            "Antisocial behaviour on the estate",
            "Neighbour harassment not dealt with",
            "Drug dealing in the stairwell",
        ],
        [
            "The neighbours play loud music until four in the morning.",
            "I have kept noise diaries for {n} weeks as you asked and nothing has happened.",
            "There are people dealing drugs in the stairwell and the children see it.",
            "My car was vandalised {when} and I reported it to the police and to you.",
            "The neighbour's dog barks all day and has bitten a child on the estate.",
            "{who} closed my antisocial behaviour case without telling me.",
            "I am frightened to leave my flat because of threats from next door.",
            "The CCTV on the block has not worked for months.",
        ],
    ),
    (
        70,
        "rent",
        [
            "Service charge increase",
            "Rent account wrong",
            "Charged for a repair I did not cause",
            "Arrears letter sent in error",
        ],
        [
            "My service charge has gone up by {n} pounds a month with no explanation.",
            "I received an arrears letter but my rent is paid by direct debit and is up to date.",
            "You have charged me for a door that was damaged before I moved in.",
            "The statement shows payments missing from {when}.",
            "I asked for a breakdown of the service charge and nobody replied.",
            "Universal Credit pays the housing element directly to you and yet you say I owe money.",
            "The sinking fund contribution has never been explained to leaseholders.",
            "I was threatened with court action over a debt that is not mine.",
        ],
    ),
    (
        50,
        "conduct",
        [
            "Rude member of staff",
            "Complaint about the behaviour of a contractor",
            "Operative left a mess and was abusive",
        ],
        [
            "{who} was rude to me on the phone and put the phone down.",
            "The operative swore at my daughter and left mud throughout the {room}.",
            "Your staff member laughed when I explained my disability.",
            "The contractor smoked in my home even though I asked him not to.",
            "I want an apology and I want to know what training your staff are given.",
            "The surveyor made comments about the state of my home in front of my children.",
        ],
    ),
    (
        60,
        "communication",
        [
            "Nobody calls me back",
            "No response to my emails",
            "Promised call back never came",
        ],
        [
            "I have emailed {n} times and have not had a single reply.",
            "I was promised a call back within two working days and it never came.",
            "Your phone line keeps me on hold for an hour and then cuts me off.",
            "Nobody has told me what is happening with my case.",
            "I want one named person to deal with this instead of a different person each time.",
            "The letter you sent {when} had the wrong name and the wrong address on it.",
        ],
    ),
    (
        40,
        "windows",
        [
            "Windows do not close",
            "Front door not secure",
            "Draughty windows and broken seals",
        ],
        [
            "The window in the {room} will not close and the handle came off in my hand.",
            "The double glazing has blown and the windows are misted between the panes.",
            "The front door frame is rotten and the door does not lock.",
            "There is a gap around the back door and the wind comes straight through.",
            "The window restrictor is broken and I have a toddler.",
        ],
    ),
    (
        30,
        "pests",
        [
            "Mice in the flat",
            "Rats in the bin store",
            "Cockroach infestation",
        ],
        [
            "There are mice in the kitchen and they have chewed through the food cupboards.",
            "Rats are living in the bin store and come into the garden at night.",
            "We have cockroaches in the {room} and the pest control visit did nothing.",
            "Woodlice are coming up through the floorboards in the {room}.",
            "The pest controller said the holes around the pipes need to be blocked by your repairs team.",
            "There are wasps nesting in the soffit above the bedroom window.",
        ],
    ),
    (
        30,
        "communal",
        [
            "Lift out of order",
            "Communal areas not cleaned",
            "Lights out in the stairwell",
        ],
        [
            "The lift has been out of order for {n} weeks and I live on the ninth floor.",
            "The stairwell lights have been out since {when} and it is pitch black at night.",
            "The communal areas have not been cleaned and there is rubbish on every landing.",
            "The entry door buzzer does not work so anyone can walk in.",
            "I use a wheelchair and without the lift I cannot leave the building.",
        ],
    ),
    (
        15,
        "asbestos",
        [
            "Asbestos disturbed during works",
            "Asbestos survey not done before repair",
        ],
        [
            "The contractor drilled into the ceiling without checking the asbestos register.",
            "I was told the artex ceiling might contain asbestos and nobody has tested it.",
            "Dust from the asbestos floor tiles was left all over the {room}.",
            "I want to see the asbestos survey for my property.",
            "The asbestos removal was booked for {when} and then cancelled.",
        ],
    ),
    (
        20,
        "adaptations",
        [
            "Adaptation request ignored",
            "Stair lift not installed",
            "Level access shower needed",
        ],
        [
            "The occupational therapist recommended a level access shower {n} months ago.",
            "I cannot get upstairs and the stair lift has still not been fitted.",
            "The grab rails were fitted in the wrong place and I cannot use them.",
            "My reasonable adjustment was ignored and letters still come in small print.",
            "I am registered disabled and the ramp to my door is cracked and dangerous.",
        ],
    ),
    (
        20,
        "grounds",
        [
            "Overgrown trees and grass",
            "Fence blown down",
            "Garden not maintained",
        ],
        [
            "The trees behind my house are overgrown and block all the light.",
            "The fence blew down in the storm {when} and my dog keeps getting out.",
            "The grass on the estate has not been cut this year.",
            "Fly tipping has been left by the garages for weeks.",
        ],
    ),
    (
        15,
        "fire",
        [
            "Fire door broken",
            "Smoke alarm not working",
        ],
        [
            "The fire door on the landing does not close by itself.",
            "The smoke alarm in the hallway keeps beeping and nobody has come to replace it.",
            "There are bikes and prams blocking the fire escape.",
            "The fire risk assessment for the block is out of date.",
        ],
    ),
    (
        20,
        "bins",
        [
            "Bins not emptied",
            "Parking on the estate",
        ],
        [
            "The communal bins have not been emptied for {n} weeks and are overflowing.",
            "People from outside park in the residents' bays and I cannot park near my home.",
            "The bin store door is broken and foxes drag the rubbish everywhere.",
        ],
    ),
    (
        40,
        "electrics",
        [
            "Electrical fault not fixed",
            "Sockets sparking",
        ],
        [
            "The socket in the {room} sparks when I plug anything in.",
            "The lights trip the fuse box every evening.",
            "The electrician said the wiring needs replacing but nothing has been booked.",
            "The extractor and the cooker share a circuit and it keeps tripping.",
        ],
    ),
]

GENERAL = [
    "I have lived here for {n} years and never had problems like this before.",
    "This is having a serious effect on my mental health.",
    "I would like this treated as a formal complaint under your complaints policy.",
    "I want the problem fixed properly and some compensation for the inconvenience.",
    "Please can someone ring me on my mobile, I work shifts so mornings are best.",
    "I have attached photographs taken {when}.",
    "I have been in touch with my local councillor about this.",
    "If this is not resolved I will contact the Housing Ombudsman.",
    "Thank you for your letter, but it does not answer the points I raised.",
    "I am not happy with the response and I want to take my complaint to stage 2.",
    "The last visit was {when} and I was told someone would be back within a week.",
    "I am a carer for my husband and it is very hard to be in for appointments all day.",
    "Can you confirm the date of the next appointment in writing please.",
    "I have a new baby and we cannot live like this.",
    "I have spent over {n} pounds of my own money trying to fix this.",
    "My neighbours have exactly the same problem.",
    "I have been a good tenant and always paid my rent on time.",
    "I was told by {who} that this would be escalated to a manager.",
    "Please treat this email as urgent.",
    "I am still waiting for the compensation you offered in your stage 1 response.",
    "The works you promised in your letter have not been started.",
    "I agree to the appointment on the date you suggested.",
    "I will be out on that day, could you rearrange for the following week?",
    "Please note my new phone number.",
    "Please send letters to me by post as I do not check my email often.",
]

# Everyday words mixed in (rarely) so the vocabulary is not only the templates'.
FILLER = _words(
    """
actually afternoon again already although apparently appointment arrange asked available awful
basically believe better bill booked bother brought called certainly cheque children cleared clearly
completely concern confirmed contact cost council daughter decent definitely delay difficult
disgusting disappointed dreadful early email emergency entire especially evening eventually
everything evidence expect explained extremely family finally frustrated fortnight genuinely
grandchildren honestly horrible husband ignored immediately important informed instead letter
literally message mobile month morning neighbour nightmare nobody normally nothing obviously
occasion officer outstanding particularly patience phone photographs previously probably promised
properly quickly ready really reasonable receipt recently reference reminder replaced reported
responsibility ridiculous safety seriously several shocking simply situation somebody someone sorted
still stressful supposed surely terrible thankfully themselves tomorrow totally unacceptable
unfortunately urgent usually visit waiting weekend whatever worried worse yesterday
"""
)


def fill(template: str, rng: random.Random) -> str:
    return template.format(
        room=rng.choice(ROOMS),
        who=rng.choice(PEOPLE),
        when=rng.choice(WHEN),
        n=rng.choice([*NUMBERS, str(rng.randint(2, 40))]),
    )


def paragraph(topic: int, rng: random.Random) -> str:
    """Three to seven sentences, mostly the topic's, one in three general, now and then filler."""
    sentences = TOPICS[topic][3]
    out: list[str] = []
    wanted = rng.randint(3, 7)
    while len(out) < wanted:
        pool = GENERAL if rng.random() < 0.33 else sentences
        text = fill(rng.choice(pool), rng)
        if rng.random() < 0.25:
            words = " ".join(rng.choice(FILLER) for _ in range(rng.randint(3, 9)))
            text = f"{text[:-1]}, {words}."
        if text not in out:
            out.append(text[0].upper() + text[1:])
    return " ".join(out)
