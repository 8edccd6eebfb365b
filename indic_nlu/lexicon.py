"""Marker words that tell Hindi typed in Roman letters from English.

Only words that are frequent and unambiguous count: "me", "he", "to", "do", "hi" and
"the" are both English and Roman Hindi and are left out of both lists.
"""

HINDI_MARKERS = frozenset(
    """
    hai hain h hae ka ki ke ko se mein mai main mera meri mere mujhe muje mjhe mujhko
    hum hamara hamari hame hume humko aap ap apka apki apke aapka aapki aapke tum tu
    tumhara tera teri kya kyaa kyu kyun kyon kaise kese kaisa kaisi kab kaha kahan kidhar
    kitna kitni kitne kaun kon koi kuch kuchh sab sabhi abhi kal aaj nahi nhi nahin nai
    haan han haa haanji ji jee theek thik thk acha accha achha achchha bhai bhaiya didi
    karna karni karne karo kro kar krna karu karun karwana karwani karao karaiye kariye
    krdo kardo kar do banwana banwani banvana banana banao banwaye bana bano chahiye
    chahie chaiye chahiy chahta chahti chahte batao btao bataiye bataye batana batayein
    dena dedo dijiye diya lena lelo lijiye wala wali wale vala vali aur ya par pe tak liye
    lie lia leye abhi jaldi bahut bohot bahot kaam paisa paise rupaye rupay shikayat
    sikayat shikayet shikayt sikayt praman pramaan patra patr pramanpatra aavedan avedan
    awedan aawedan sarkari kripya krpya kirpya dhanyavad dhanyawad dhanyavaad shukriya
    sukriya namaste namaskar pranam alvida madad sahayata sahayta bhejo bhej bhejiye
    bhejna raha rahi rahe gaya gayi gaye gya gyi hua hui hue hoga hogi hoge tha thi hota
    hoti hote milega milegi milenge mila mili paani pani bijli sadak gali nali kooda
    kachra mahina mahine saal baje wapas vapas band mat roko ruko rehne rahne shuru suru
    hatao hata mita mitao mitado bolo boliye baat insaan insan adhikari naam pata janam
    janm mrityu jati jaati aay niwas nivas vivah shaadi shadi budhapa budhapaa vridha
    vriddha vidhwa vidhva viklang rashan ghar mkaan makaan kiraya kirayedar bachche bacha
    beta beti pita pati patni maa mata kyunki lekin magar phir fir dobara dubara sirf
    bas apna apni apne yeh ye woh wo vo iska iski uska uski unka unki idhar udhar yahan
    wahan accha bhi nahi_ toh hu hoon hun hoo hain_ sakte sakta sakti skte hogaya hogya
    hindi angrezi angreji samjha samjhe samajh pata_nahi jankari jaankari suvidha seva
    sevayen sevaye sewa yojana yojna bhugtan shulk fees_ jama bharna bharni bhar
    """.split()
)

ENGLISH_MARKERS = frozenset(
    """
    i my mine you your yours we our us they them their it its is are am was were be been
    the a an this that these those what how when where why which who whom whose want
    wants wanted need needs please pls plz kindly can could would should will shall may
    might must for of in on at with about from into by and or but not no yes yeah yep
    nope have has had get got give given apply applied applying status check
    help thanks thank hello hi hey hii good morning evening afternoon night bye goodbye
    see later there here know tell show send sent make made do does did done pay paid
    download file filed complaint complain register registration certificate licence
    license pension card bill tax water road street light garbage issue problem my_
    application form documents document required fee fees cost charges time long days
    english language speak talk officer person human agent real bot robot stop start
    delete remove data consent withdraw information info details again new old still
    yet already today tomorrow yesterday sir madam mam please_ thankyou thanx thx
    """.split()
)
